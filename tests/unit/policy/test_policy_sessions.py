"""The gate's closes (`sessions.quietly`): a failure is logged, never raised, and a close runs
to its end even when the task awaiting it is cancelled (a shutdown that cancels twice), so
no Kafka consumer is left half-stopped, polling the broker for topics that are gone; and a
close that hangs holds its caller up for a bounded time only."""

from __future__ import annotations

import asyncio

import pytest
from gemroll_policy.adapters import sessions


class SlowClose:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.finished = False

    async def stop(self) -> None:
        self.started.set()
        await self.release.wait()
        self.finished = True


async def test_a_close_outlives_the_cancelled_task_that_awaited_it() -> None:
    consumer = SlowClose()
    waiting = asyncio.create_task(sessions.quietly(consumer.stop()))
    await consumer.started.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not consumer.finished and len(sessions._closing) == 1  # still closing, still held
    consumer.release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert consumer.finished and not sessions._closing


async def test_a_failing_close_is_logged_and_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr(sessions.log, "warning", lambda event, **kw: logged.append((event, kw)))

    async def broken() -> None:
        raise OSError("connection reset (injected)")

    await sessions.quietly(broken())
    await asyncio.sleep(0)
    assert logged == [("gate_close_failed", {"error": "connection reset (injected)"})]


async def test_a_close_that_works_is_awaited_to_its_end() -> None:
    consumer = SlowClose()
    consumer.release.set()
    await sessions.quietly(consumer.stop())
    assert consumer.finished and not sessions._closing


async def test_a_close_that_hangs_is_waited_for_a_bounded_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr(sessions.log, "warning", lambda event, **kw: logged.append((event, kw)))
    producer = SlowClose()  # never released: aiokafka's stop stuck inside a transaction
    await asyncio.wait_for(sessions.quietly(producer.stop(), timeout_s=0.05), 5)
    assert logged == [("gate_close_timed_out", {"timeout_s": 0.05})]
    assert not producer.finished and len(sessions._closing) == 1  # left running, still held
    producer.release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert producer.finished and not sessions._closing
