"""The gate's Kafka loop: consume -> decide (PostgreSQL) -> publish, exactly once.

How exactly-once works here, step by step:

1. Poll a batch of candidates, user actions and consent changes (read_committed).
2. `GateHandler.handle` applies the batch in ONE database transaction: state changes,
   audit entries and the outgoing events (the outbox rows) commit together, or not at all.
   Applying a batch twice changes nothing: candidates are keyed by candidate_id, actions by
   event_id, and a candidate already decided is never decided again.
3. One Kafka transaction (transactional producer, fixed transactional id) publishes the
   outbox rows from the watermark on and commits, for the gate's consumer group, the batch's
   offsets together with the new outbox watermark (stored as the group's offset on partition
   0 of the policy-owned decisions topic, which the gate never consumes). Either all of it
   becomes visible to read_committed consumers, or none of it.
4. Rows below the committed watermark are deleted from the outbox.

A crash between 2 and 3 replays the batch (a no-op) and publishes the rows still in the
outbox; a crash between 3 and 4 reads the watermark back from Kafka and skips what was
published. Starting the producer fences any older instance with the same transactional id,
so a zombie can never commit. Events not caused by a consumed record (consent changes from
the API, the retention job) go through the same outbox.

If PostgreSQL or the object store (the training copies are made inside step 2, before the
commit) is unreachable, nothing is decided or published (fail closed): the loop seeks back to
the start of the batch and retries with backoff until it answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from gemroll_common.errors import is_transient as is_dependency_down
from gemroll_common.kafka import dead_letter_for, topic_name
from gemroll_common.logging import get_logger
from gemroll_common.metrics import EVENTS_CONSUMED, PROCESSING_SECONDS
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import (
    CONSENT,
    MEDIA_UPLOADED,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    USER_ACTIONS,
    ConsentChanged,
    DeadLetter,
    MediaUploaded,
    Service,
    TrainingCandidate,
    UserAction,
    topic_named,
)
from pydantic import ValidationError

from .. import metrics
from ..domain.origin import ForgedEvent, check_origin
from ..handlers import GateHandler, GateInput
from ..ports import Outbox, OutboxRow, StorageUnavailable
from ..settings import PolicySettings
from .kafka_clients import CachedKeyPartitioner, client_kwargs

log = get_logger(__name__)

SERVICE = "policy"
HEARTBEAT_S = 600.0
IDLE_RELAY_S = 0.2
COPY_RETRY_EVERY_S = 1.0
"""Re-commit the watermark at least this often, so Kafka never expires it while idle."""

def is_transient(exc: BaseException) -> bool:
    """A dependency is down: retry the same work later, never skip or dead-letter it."""
    return is_dependency_down(exc) or isinstance(exc, StorageUnavailable)


Checkpoint = Callable[[str], None]
"""Test hook called at 'after_db_commit' and 'after_kafka_commit'; may raise to crash."""


class GateLoop:
    def __init__(
        self,
        handler: GateHandler,
        outbox: Outbox,
        kafka: KafkaSettings,
        settings: PolicySettings,
        *,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.handler = handler
        self.outbox = outbox
        self.kafka = kafka
        self.settings = settings
        self.checkpoint = checkpoint or (lambda _: None)
        suffix = kafka.topic_suffix
        self.group = f"{settings.consumer_group}{suffix}"
        self.transactional_id = f"{settings.transactional_id}{suffix}"
        self.parsers: dict[str, type[GateInput]] = {
            topic_name(TRAINING_CANDIDATES, kafka): TrainingCandidate,
            topic_name(USER_ACTIONS, kafka): UserAction,
            topic_name(CONSENT, kafka): ConsentChanged,
            topic_name(MEDIA_UPLOADED, kafka): MediaUploaded,
        }
        # The outbox watermark lives in Kafka as the gate group's committed offset on this
        # partition (a policy-owned topic the gate never consumes): one group, one commit.
        self.anchor = TopicPartition(topic_name(TRAINING_DECISIONS, kafka), 0)
        self.consumer: AIOKafkaConsumer | None = None
        self.watermark = 0
        self._next_sweep = 0.0
        self._next_copy_retry = 0.0
        self._last_commit = 0.0
        self._next_idle_relay = 0.0
        self._db_backoff = 0.1
        self.stopping = False

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        """Run sessions until cancelled; a failed session is restarted with backoff."""
        backoff = 0.5
        while not self.stopping:
            started = time.monotonic()
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the gate must keep going
                log.error("gate_session_failed", error_type=type(exc).__name__,
                          error=str(exc)[:500])
                metrics.GATE_FAILURES.labels("session").inc()
                if time.monotonic() - started > 60:
                    backoff = 0.5
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _session(self) -> None:
        producer = AIOKafkaProducer(
            **client_kwargs(self.kafka, "gemroll-policy-gate"),
            transactional_id=self.transactional_id, enable_idempotence=True, acks="all",
            linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000,
            partitioner=CachedKeyPartitioner(),
        )
        consumer = AIOKafkaConsumer(
            *self.parsers,
            **client_kwargs(self.kafka, "gemroll-policy-gate"),
            group_id=self.group, enable_auto_commit=False, auto_offset_reset="earliest",
            isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await producer.start()  # fences any older gate with the same transactional id
        try:
            await consumer.start()
            self.consumer = consumer
            committed = await self._committed_watermark()
            self.watermark = await self._retry_db(lambda: self.outbox.align(committed))
            log.info("gate_started", group=self.group, watermark=self.watermark,
                     transactional_id=self.transactional_id)
            self._next_sweep = time.monotonic()
            while not self.stopping:
                await self._step(producer, consumer)
        finally:
            self.consumer = None
            await _quietly(consumer.stop())
            await _quietly(producer.stop())

    def stop(self) -> None:
        self.stopping = True

    # -- one iteration ----------------------------------------------------------------------
    async def _step(self, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=self.settings.poll_timeout_ms,
                                       max_records=self.settings.batch_max_records)
        offsets: dict[TopicPartition, int] = {}
        if batch:
            started = time.perf_counter()
            if not await self._decide(batch, consumer):
                return
            offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            elapsed = time.perf_counter() - started
            for tp, records in batch.items():
                name = tp.topic.removesuffix(self.kafka.topic_suffix)
                EVENTS_CONSUMED.labels(SERVICE, name, "ok").inc(len(records))
                PROCESSING_SECONDS.labels(SERVICE, name).observe(elapsed / max(1, len(records)))
            self.checkpoint("after_db_commit")

        if time.monotonic() >= self._next_sweep:
            await self._sweep()
        if time.monotonic() >= self._next_copy_retry:
            await self._retry_copies()

        heartbeat = time.monotonic() - self._last_commit > HEARTBEAT_S
        if not (batch or heartbeat) and time.monotonic() < self._next_idle_relay:
            return  # idle: look for rows from the API (consent changes) a few times a second
        self._next_idle_relay = time.monotonic() + IDLE_RELAY_S
        rows: list[OutboxRow] = []
        try:
            rows = await self.outbox.pending(self.watermark, self.settings.relay_max_rows)
        except Exception as exc:
            if not is_dependency_down(exc):
                raise
            self._db_failed("relay", exc)
        if not (rows or offsets or heartbeat):
            return
        new_watermark = rows[-1].seq + 1 if rows else self.watermark
        async with producer.transaction():
            for row in rows:
                topic = topic_named(row.message.topic)
                if Service.policy not in topic.writers:  # never publish someone else's topic
                    raise PermissionError(f"policy may not write {topic.name}")
                await producer.send(
                    topic_name(topic, self.kafka), value=row.message.value, key=row.message.key,
                    headers=[("event_type", row.message.event_type.encode()),
                             ("content-type", b"application/json"),
                             ("outbox-seq", str(row.seq).encode())])
            # aiokafka commits offsets of one group per transaction: input offsets and the
            # watermark go together.
            await producer.send_offsets_to_transaction(
                {**offsets, self.anchor: new_watermark}, self.group)
        self.watermark = new_watermark
        self._last_commit = time.monotonic()
        self.checkpoint("after_kafka_commit")

    async def _decide(self, batch: dict[TopicPartition, list[ConsumerRecord]],
                      consumer: AIOKafkaConsumer) -> bool:
        """Apply the batch in the database; False (and seek back) when it must be retried."""
        records = [r for tp_records in batch.values() for r in tp_records]
        try:
            await self._apply(records)
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._db_failed("decide", exc)
            for tp, tp_records in batch.items():
                consumer.seek(tp, tp_records[0].offset)
            await asyncio.sleep(self._db_backoff)
            self._db_backoff = min(self._db_backoff * 2, self.settings.db_retry_max_s)
            return False
        self._db_ok()
        metrics.GATE_BATCHES.inc()
        return True

    async def _apply(self, records: list[ConsumerRecord]) -> None:
        events: list[GateInput] = []
        letters: list[DeadLetter] = []
        for record in records:
            parsed = self._parse(record)
            if isinstance(parsed, DeadLetter):
                letters.append(parsed)
            elif parsed is not None:
                events.append(parsed)
        if not (events or letters):
            return
        try:
            await self.handler.handle(events, letters)
        except Exception as exc:
            if is_transient(exc) or len(records) == 1:
                raise
            # Something in this batch cannot be processed: isolate it record by record,
            # so one bad record is dead-lettered instead of stopping the gate.
            log.warning("gate_batch_failed_isolating", records=len(records),
                        error_type=type(exc).__name__, error=str(exc)[:300])
            metrics.GATE_FAILURES.labels("batch").inc()
            for record in records:
                try:
                    await self._apply([record])
                except Exception as single:
                    if is_transient(single):
                        raise
                    letter = dead_letter_for(record, group=self.group, error=single, attempts=1)
                    await self.handler.handle([], [letter])
                    log.error("gate_record_dead_lettered", topic=record.topic,
                              offset=record.offset, error_type=type(single).__name__)

    def _parse(self, record: ConsumerRecord) -> GateInput | DeadLetter | None:
        if record.value is None:
            return None  # a compaction tombstone: nothing to decide
        model = self.parsers[record.topic]
        try:
            event = model.model_validate_json(record.value)
            if not isinstance(event, ConsentChanged):  # the policy's own topic
                check_origin(event, self.handler.objects.bucket)
            return event
        except ForgedEvent as exc:
            metrics.FORGED_EVENTS.labels(record.topic.removesuffix(self.kafka.topic_suffix)).inc()
            log.error("gate_record_forged", topic=record.topic, offset=record.offset,
                      error=str(exc)[:300])
            return dead_letter_for(record, group=self.group, error=exc, attempts=1)
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            log.warning("gate_record_invalid", topic=record.topic, offset=record.offset,
                        error=str(exc)[:300])
            return dead_letter_for(record, group=self.group, error=exc, attempts=1)

    async def _sweep(self) -> None:
        try:
            await self.handler.sweep()
            self._next_sweep = time.monotonic() + self.settings.retention_interval_s
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._db_failed("retention", exc)
            self._next_sweep = time.monotonic() + self.settings.db_retry_max_s

    async def _retry_copies(self) -> None:
        """Held admissions whose training copy failed: tried again once a second at most."""
        self._next_copy_retry = time.monotonic() + COPY_RETRY_EVERY_S
        try:
            await self.handler.retry_copies()
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._db_failed("copy_retry", exc)

    # -- helpers ---------------------------------------------------------------------------
    async def _committed_watermark(self) -> int | None:
        reader = AIOKafkaConsumer(**client_kwargs(self.kafka, "gemroll-policy-watermark"),
                                  group_id=self.group, enable_auto_commit=False)
        await reader.start()
        try:
            return await reader.committed(self.anchor)
        finally:
            await reader.stop()

    async def _retry_db(self, call: Callable[[], Any]) -> Any:
        delay = 0.1
        while True:
            try:
                result = await call()
                self._db_ok()
                return result
            except Exception as exc:
                if not is_dependency_down(exc):
                    raise
                self._db_failed("start", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.db_retry_max_s)

    def _db_failed(self, stage: str, exc: BaseException) -> None:
        metrics.GATE_FAILURES.labels(stage).inc()
        if isinstance(exc, StorageUnavailable):
            log.warning("gate_waiting_for_object_store", stage=stage, error=str(exc)[:200])
            return
        metrics.CONSENT_STORE_UP.set(0)
        log.warning("gate_waiting_for_database", stage=stage, error_type=type(exc).__name__,
                    error=str(exc)[:200])

    def _db_ok(self) -> None:
        self._db_backoff = 0.1
        metrics.CONSENT_STORE_UP.set(1)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as exc:  # noqa: BLE001 - best effort on shutdown
        log.warning("gate_close_failed", error=str(exc)[:200])
