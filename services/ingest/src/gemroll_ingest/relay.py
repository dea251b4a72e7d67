"""The outbox relay: publishes pending outbox rows to Kafka, in order, until there are none.

Kafka being down only delays it: a failed batch stays pending (its transaction rolls back) and
is retried with capped exponential backoff, so every accepted upload is announced once Kafka is
back. A crash after publishing but before the commit republishes the batch; consumers dedupe
on `event_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from gemroll_common.logging import get_logger

from . import metrics
from .ports import OutboxStore, PendingMessage, RawPublisher

log = get_logger(__name__)


class OutboxRelay:
    def __init__(
        self, store: OutboxStore, publisher: RawPublisher, *, batch_size: int = 200,
        idle_s: float = 0.5, max_backoff_s: float = 30.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was written to the outbox: publish now rather than at the next poll."""
        self._wake.set()

    async def _publish(self, messages: Sequence[PendingMessage]) -> None:
        for message in messages:  # one at a time, each acknowledged: keeps the order
            await self._publisher.publish(message)

    async def run_once(self) -> int:
        """Publish one batch; returns how many were published."""
        try:
            published = await self._store.claim_and_publish(self._batch_size, self._publish)
            metrics.OUTBOX_PUBLISHED.inc(published)
            return published
        finally:
            with contextlib.suppress(Exception):  # the database may be what is down
                metrics.OUTBOX_PENDING.set(await self._store.pending_count())

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                published = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Kafka or the database is down: retry
                failures += 1
                metrics.RELAY_FAILURES.inc()
                delay = min(self._max_backoff_s, self._idle_s * 2 ** min(failures, 10))
                log.warning("outbox_publish_failed", error_type=type(exc).__name__,
                            error=str(exc)[:300], retry_in_s=round(delay, 2), attempt=failures)
                await asyncio.sleep(delay)
                continue
            if failures:
                log.info("outbox_publishing_resumed", after_attempts=failures)
            failures = 0
            if published < self._batch_size:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._idle_s)
                except TimeoutError:
                    pass
