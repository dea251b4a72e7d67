"""Kafka entrypoints: a batch subscriber for uploads, a plain one for erasures.

The batch subscriber takes up to `batch_max` records or waits `batch_timeout_ms`, hands the
valid events to the use case and commits when the handler returns. Nothing is lost and one bad
record never stops the consumer:

* a record that is not a valid MediaUploaded is dead-lettered at once;
* an object still missing after the fetch retries is dead-lettered;
* infrastructure down (S3, PostgreSQL, Kafka): the batch is retried with capped backoff until
  it goes through (no commit meanwhile);
* any other failure: the batch is retried a few times, then its events one by one, and an
  event that keeps failing alone is dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from gemroll_common.errors import is_transient as common_is_transient
from gemroll_common.kafka import (
    DEAD_LETTERS_TOTAL,
    EventPublisher,
    dead_letter_for,
    dead_letter_middleware,
    topic_name,
)
from gemroll_common.logging import get_logger
from gemroll_common.metrics import EVENTS_CONSUMED, PROCESSING_SECONDS
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    MediaErased,
    MediaUploaded,
    Service,
)
from pydantic import ValidationError

from .handlers import ClassifyMedia, Erased, Failed
from .settings import ClassifierSettings

log = get_logger(__name__)
SERVICE = Service.classifier


def is_transient(exc: BaseException) -> bool:
    """The shared classification; for the upload batches any Kafka error counts too (the
    results are published inside the batch: never dead-letter a photo because Kafka hiccups)."""
    return common_is_transient(exc) or isinstance(exc, KafkaError)


class ErasureRunner:
    """Runs one MediaErased until it succeeds: a dependency outage (PostgreSQL restarting,
    say) is waited out with capped backoff, never dead-lettered, so no embedding or phash of
    erased media stays behind. Other failures propagate (bounded retries, then the dead
    letter, by the middleware)."""

    def __init__(self, classify: ClassifyMedia, *, base_backoff_s: float = 0.2,
                 max_backoff_s: float = 10.0) -> None:
        self._classify = classify
        self._base = base_backoff_s
        self._max = max_backoff_s
        self.retries = 0

    async def run(self, event: MediaErased) -> int:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._classify.erase(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not common_is_transient(exc):
                    raise
                self.retries += 1
                delay = min(self._max, self._base * 2 ** min(attempt - 1, 10))
                EVENTS_CONSUMED.labels(SERVICE, MEDIA_ERASED.name, "retried").inc()
                log.warning("erasure_retrying", attempt=attempt, error_type=type(exc).__name__,
                            error=str(exc)[:300], retry_in_s=delay)
                await asyncio.sleep(delay)


class BatchRunner:
    """Runs micro-batches of upload records through the use case, dead-lettering the bad."""

    def __init__(self, classify: ClassifyMedia, publisher: EventPublisher, *, group: str,
                 kafka: KafkaSettings, max_attempts: int = 3, base_backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0) -> None:
        self._classify = classify
        self._publisher = publisher
        self._group = group
        self._kafka = kafka
        self._max_attempts = max_attempts
        self._base = base_backoff_s
        self._max = max_backoff_s
        self._last_error: BaseException = RuntimeError("no error")

    async def run(self, records: Sequence[Any]) -> None:
        if not records:
            return
        topic = MEDIA_UPLOADED.name
        with PROCESSING_SECONDS.labels(SERVICE, topic).time():
            pairs: list[tuple[Any, MediaUploaded]] = []
            for record in records:
                try:
                    pairs.append((record, MediaUploaded.from_json(record.value or b"")))
                except (ValidationError, ValueError) as exc:
                    await self._dead_letter(record, exc, 1)
            if not pairs:
                return
            outcomes = await self._classify_with_retries([e for _, e in pairs])
            if outcomes is None:  # the batch keeps failing: isolate the culprit
                outcomes = {}
                for record, event in pairs:
                    single = await self._classify_with_retries([event])
                    if single is None:
                        await self._dead_letter(record, self._last_error, self._max_attempts)
                    else:
                        outcomes.update(single)
            for record, event in pairs:
                outcome = outcomes.get(event.event_id)
                if isinstance(outcome, Failed):
                    await self._dead_letter(record, outcome.error, outcome.attempts)
                elif isinstance(outcome, Erased):
                    EVENTS_CONSUMED.labels(SERVICE, topic, "erased").inc()
                elif outcome is not None:
                    EVENTS_CONSUMED.labels(SERVICE, topic, "ok").inc()

    async def _classify_with_retries(self, events: list[MediaUploaded]) -> dict | None:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._classify.classify(events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                self._last_error = exc
                transient = is_transient(exc)
                if not transient and attempt >= self._max_attempts:
                    log.error("batch_failed", size=len(events), error_type=type(exc).__name__,
                              error=str(exc)[:500])
                    return None
                delay = min(self._max, self._base * 2 ** min(attempt - 1, 10))
                EVENTS_CONSUMED.labels(SERVICE, MEDIA_UPLOADED.name, "retried").inc(len(events))
                log.warning("batch_retrying", size=len(events), attempt=attempt,
                            transient=transient, error_type=type(exc).__name__,
                            error=str(exc)[:300], retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _dead_letter(self, record: Any, error: BaseException, attempts: int) -> None:
        letter = dead_letter_for(record, group=self._group, error=error, attempts=attempts)
        key = (record.key or b"").decode("utf-8", "replace")
        await self._publisher.publish(DEAD_LETTERS, letter, key=key)
        DEAD_LETTERS_TOTAL.labels(SERVICE, MEDIA_UPLOADED.name, type(error).__name__).inc()
        EVENTS_CONSUMED.labels(SERVICE, MEDIA_UPLOADED.name, "dead_lettered").inc()
        log.warning("dead_lettered", topic=record.topic, partition=record.partition,
                    offset=record.offset, error_type=type(error).__name__,
                    error=str(error)[:500])


async def _raw_values(msg: Any) -> list[bytes]:
    """Keep the batch's values as bytes: each record is validated on its own."""
    return [r.value or b"" for r in msg.raw_message]


def subscribe(broker: KafkaBroker, *, settings: ClassifierSettings, kafka: KafkaSettings,
              classify: ClassifyMedia, publisher: EventPublisher) -> list[Any]:
    """Register the classifier's subscribers on `broker`; returns them (for readiness)."""
    runner = BatchRunner(classify, publisher, group=settings.group_id, kafka=kafka)

    uploads = broker.subscriber(
        topic_name(MEDIA_UPLOADED, kafka), batch=True, max_records=settings.batch_max,
        batch_timeout_ms=settings.batch_timeout_ms, group_id=settings.group_id,
        # NACK_ON_ERROR: should the handler still raise (Kafka down while dead-lettering), the
        # batch is rewound and redelivered instead of committed; redelivery is idempotent.
        auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR, decoder=_raw_values,
        max_partition_fetch_bytes=4 * 1024 * 1024)

    @uploads
    async def on_uploaded(values: list[bytes], message: KafkaMessage) -> None:
        await runner.run(message.raw_message)

    erase_group = f"{settings.group_id}.erasure"
    router = KafkaRouter()
    erasures = router.subscriber(
        topic_name(MEDIA_ERASED, kafka), group_id=erase_group, auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK)

    erase_runner = ErasureRunner(classify)

    @erasures
    async def on_erased(event: MediaErased) -> None:
        removed = await erase_runner.run(event)
        EVENTS_CONSUMED.labels(SERVICE, MEDIA_ERASED.name, "ok").inc()
        log.info("media_erased", media=len(event.data.media_ids), removed=removed,
                 reason=event.data.reason.value)

    broker.include_router(router, middlewares=(
        dead_letter_middleware(service=SERVICE, group=erase_group, settings=kafka),))
    return [uploads, erasures]
