"""The outbox relay: publishes in order, keeps rows pending while publishing fails."""

from __future__ import annotations

import asyncio

from gemroll_ingest.ports import PendingMessage, PublishBatch
from gemroll_ingest.relay import OutboxRelay


class FakeOutbox:
    def __init__(self, n: int) -> None:
        self.pending = [PendingMessage(i, "gemroll.media.uploaded.v1", "k", "media.uploaded",
                                       b"{}") for i in range(n)]
        self.published: list[int] = []

    async def claim_and_publish(self, limit: int, publish: PublishBatch) -> int:
        batch = self.pending[:limit]
        if not batch:
            return 0
        await publish(batch)  # raises: nothing is marked (the transaction rolls back)
        self.published += [m.id for m in batch]
        del self.pending[:len(batch)]
        return len(batch)

    async def pending_count(self) -> int:
        return len(self.pending)

    async def purge_published(self, older_than_s: int) -> int:
        return 0


class FlakyPublisher:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[int] = []
        self.done = asyncio.Event()
        self.expected = 0

    async def publish(self, message: PendingMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("kafka down")
        self.sent.append(message.id)
        if len(self.sent) == self.expected:
            self.done.set()


async def test_publishes_in_order_in_batches():
    outbox, publisher = FakeOutbox(5), FlakyPublisher(0)
    relay = OutboxRelay(outbox, publisher, batch_size=2)
    assert [await relay.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert publisher.sent == outbox.published == [0, 1, 2, 3, 4]


async def test_failed_batches_stay_pending_and_are_retried():
    outbox, publisher = FakeOutbox(3), FlakyPublisher(failures=3)
    publisher.expected = 3
    relay = OutboxRelay(outbox, publisher, batch_size=10, idle_s=0.001, max_backoff_s=0.01)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(publisher.done.wait(), 5)
    finally:
        task.cancel()
    assert publisher.sent == [0, 1, 2] and outbox.pending == []


async def test_a_partly_published_batch_is_published_again_whole():
    """At-least-once: a batch that failed midway is retried from its first row (consumers
    dedupe on event_id); nothing is skipped."""
    outbox = FakeOutbox(2)

    class FailsOnSecond(FlakyPublisher):
        async def publish(self, message: PendingMessage) -> None:
            if message.id == 1 and not self.sent.count(1) and self.failures:
                self.failures -= 1
                raise ConnectionError("down")
            self.sent.append(message.id)

    publisher = FailsOnSecond(failures=1)
    relay = OutboxRelay(outbox, publisher, batch_size=10)
    try:
        await relay.run_once()
    except ConnectionError:
        pass
    assert outbox.pending and outbox.published == []
    assert await relay.run_once() == 2
    assert publisher.sent == [0, 0, 1]


