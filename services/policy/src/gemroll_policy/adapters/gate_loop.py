"""The gate's Kafka loop: consume -> decide (PostgreSQL) -> publish, exactly once, on as
many instances as run.

The gate is the one consumer that does not run on the kit's runner (`gemroll_common.consumer`)
and only because its output goes out inside Kafka transactions. Its read_committed consumer
is in the registry's consumer group (`policy.gate`), so instances share the partitions.
Decoding, dead letters, the failure policy, the backoff and the transient classification are
the kit's.

How exactly-once works here, step by step:

1. Poll a batch of candidates, user actions, uploads and consent changes (read_committed).
2. `GateHandler.handle` applies the batch in ONE database transaction, under the writers'
   lock: state changes, audit entries and the outgoing events (the outbox rows) commit
   together, or not at all. Applying a batch twice changes nothing: candidates are keyed by
   candidate_id, actions by event_id, and a candidate already decided is never decided again.
   So the decisions themselves need no fencing: two instances deciding the same record (a
   rebalance, a paused zombie) serialise on the lock, and the second finds it decided.
3. The batch's offsets are committed for the group. A crash or rebalance before that replays
   the batch on the partitions' next owner: a no-op.
4. The relay (`gate_relay`), on one instance at a time, publishes the outbox rows from the
   watermark on and commits the new watermark in ONE Kafka transaction; rows below the
   committed watermark are deleted. Its fixed transactional id fences any older leader.

A crash between 2 and 4 leaves the rows in the outbox for the next leader; a crash after 4
reads the watermark back from Kafka and skips what was published. Events not caused by a
consumed record (consent changes from the API, the retention job) go through the same outbox.

If PostgreSQL is unreachable, nothing is decided or published (fail closed): the loop seeks
back to the start of the batch and retries with backoff until it answers. A training copy
that fails holds only its own admission (see `usecases.copies`).

Training copies are made beside the loop, by a task of their own (`_copy_admissions`):
a batch's admissions wait in the copy queue, so no batch waits for the object store. Every
instance runs one; claims are taken under the writers' lock, so no copy is claimed twice.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from gemroll_common.consumer import FailurePolicy
from gemroll_common.errors import ObjectStoreError, is_transient
from gemroll_common.http import subscribers_assigned
from gemroll_common.kafka import topic_name
from gemroll_common.logging import get_logger
from gemroll_common.metrics import EVENTS_CONSUMED, PROCESSING_SECONDS, watch_consumer_lag
from gemroll_common.retry import Backoff, retry_while_transient
from gemroll_common.service import Runtime
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import Service, subscriptions_of

from .. import metrics
from ..ports import StorageUnavailable
from ..settings import PolicySettings
from ..usecases import GateHandler
from .gate_records import GateRecords
from .gate_relay import Checkpoint, GateRelay
from .kafka_clients import committed_consumer
from .sessions import keep_running, quietly

log = get_logger(__name__)

SERVICE = Service.policy.value
COPY_POLL_S = 1.0
"""The copier looks for due copies this often when nothing wakes it (retries, restarts)."""



def gate_group() -> str:
    """The gate's consumer group: one for all its topics (the registry's `policy.gate`)."""
    [group] = {s.group for s in subscriptions_of(Service.policy)}
    return group


class GateLoop:
    def __init__(self, handler: GateHandler, pool: asyncpg.Pool, kafka: KafkaSettings,
                 settings: PolicySettings, *, checkpoint: Checkpoint | None = None) -> None:
        self.handler = handler
        self.kafka = kafka
        self.settings = settings
        self.checkpoint = checkpoint or (lambda _: None)
        self.group = gate_group() + kafka.topic_suffix
        self.backoff = Backoff(0.1, settings.db_retry_max_s)
        topics = {topic_name(s.topic, kafka): s.topic for s in subscriptions_of(Service.policy)}
        self.records = GateRecords(handler, topics, self.group,
                                   FailurePolicy(backoff=self.backoff))
        self.relay = GateRelay(pool, settings.db_schema, kafka, self.group,
                               f"{settings.transactional_id}{kafka.topic_suffix}",
                               max_rows=settings.relay_max_rows)
        self.consumer: AIOKafkaConsumer | None = None
        self.stopping = False
        self._failures = 0
        self._next_sweep = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def attach(self, runtime: Runtime) -> None:
        """Run beside the service: the loop, its lag gauge, and readiness once it consumes."""
        runtime.background("policy-gate", self.run)
        runtime.background("policy-gate-lag", self.watch_lag)
        runtime.ready_when("gate", self.ready)

    async def run(self) -> None:
        """Decide, copy and relay until cancelled. Each keeps going through its own errors;
        a crash of one (a BaseException, e.g. a test's simulated kill) stops all three."""
        async with asyncio.TaskGroup() as tasks:
            beside = [tasks.create_task(self._copy_admissions()),
                      tasks.create_task(self.relay.run(self.checkpoint))]
            await self._decide_forever()  # until `stop`
            for task in beside:
                task.cancel()

    async def _decide_forever(self) -> None:
        """Run consumer sessions; a failed session is restarted with backoff."""
        await keep_running(self._session, stage="session", event="gate_session_failed",
                           level="error", stopping=lambda: self.stopping)

    async def _session(self) -> None:
        consumer = committed_consumer(self.kafka, self.records.topics, self.group)
        try:
            await consumer.start()
            self.consumer = consumer
            committed = await self.relay.committed()
            await retry_while_transient(
                lambda: self.relay.protect(committed), what="gate_start", backoff=self.backoff,
                on_retry=lambda exc, _: self._failed("start", exc))
            self._ok()
            log.info("gate_started", group=self.group)
            self._next_sweep = time.monotonic()
            while not self.stopping:
                await self._step(consumer)
        finally:
            self.consumer = None
            await quietly(consumer.stop())

    def stop(self) -> None:
        self.stopping = True

    async def ready(self) -> bool:
        """The gate's consumer has partitions assigned."""
        return await subscribers_assigned([self])()

    async def watch_lag(self) -> None:
        await watch_consumer_lag(SERVICE, [self])

    # -- one iteration ----------------------------------------------------------------------
    async def _step(self, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=self.settings.poll_timeout_ms,
                                       max_records=self.settings.batch_max_records)
        if batch:
            started = time.perf_counter()
            if not await self._decide(batch, consumer):
                return
            elapsed = time.perf_counter() - started
            for tp, records in batch.items():
                name = self.records.topics[tp.topic].name
                EVENTS_CONSUMED.labels(SERVICE, name, "ok").inc(len(records))
                PROCESSING_SECONDS.labels(SERVICE, name).observe(elapsed / max(1, len(records)))
            self.relay.wake()
            self.checkpoint("after_db_commit")
            await self._commit(consumer, {tp: rs[-1].offset + 1 for tp, rs in batch.items()})
        if time.monotonic() >= self._next_sweep:
            await self._sweep()

    async def _commit(self, consumer: AIOKafkaConsumer,
                      offsets: dict[TopicPartition, int]) -> None:
        """Commit the decided batch's offsets. A commit that fails (a rebalance, the broker
        away) loses nothing: the next commit covers it, or the partitions' next owner
        replays the batch, and deciding it again changes nothing."""
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            metrics.GATE_FAILURES.labels("commit").inc()
            log.warning("gate_commit_failed", error_type=type(exc).__name__,
                        error=str(exc)[:200])

    async def _decide(self, batch: dict[TopicPartition, list[ConsumerRecord]],
                      consumer: AIOKafkaConsumer) -> bool:
        """Apply the batch in the database; False (and seek back) when it must be retried."""
        try:
            await self.records.apply([r for records in batch.values() for r in records])
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._failed("decide", exc)
            for tp, records in batch.items():
                consumer.seek(tp, records[0].offset)
            self._failures += 1
            await self.backoff.wait(self._failures)
            return False
        self._ok()
        metrics.GATE_BATCHES.inc()
        return True

    async def _sweep(self) -> None:
        try:
            await self.handler.sweep()
            self._next_sweep = time.monotonic() + self.settings.retention_interval_s
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._failed("retention", exc)
            self._next_sweep = time.monotonic() + self.settings.db_retry_max_s

    async def _copy_admissions(self) -> None:
        """The copier: makes the queued training copies, woken by each batch that queues
        some, and at least every COPY_POLL_S for retries. Never stops on an error."""
        failures = 0
        while not self.stopping:
            try:
                outcomes = await self.handler.copy_admissions(self.settings.copy_round_max)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the copier must keep going
                if not is_transient(exc):
                    log.error("copy_round_failed", error_type=type(exc).__name__,
                              error=str(exc)[:500])
                self._failed("copy", exc)
                failures += 1
                await self.backoff.wait(failures)
                continue
            failures = 0
            if not outcomes:
                await self.handler.copies_waiting(COPY_POLL_S)

    # -- health ---------------------------------------------------------------------------
    def _failed(self, stage: str, exc: BaseException) -> None:
        metrics.GATE_FAILURES.labels(stage).inc()
        if isinstance(exc, StorageUnavailable | ObjectStoreError):
            log.warning("gate_waiting_for_object_store", stage=stage, error=str(exc)[:200])
            return
        metrics.CONSENT_STORE_UP.set(0)
        log.warning("gate_waiting_for_database", stage=stage, error_type=type(exc).__name__,
                    error=str(exc)[:200])

    def _ok(self) -> None:
        self._failures = 0
        metrics.CONSENT_STORE_UP.set(1)


__all__ = ["Checkpoint", "GateLoop", "gate_group"]
