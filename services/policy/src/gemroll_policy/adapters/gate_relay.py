"""The gate's outbox relay: the outbox rows go out inside Kafka transactions, exactly once,
published by one instance at a time however many gates run.

The outbox is the kit's table (`gemroll_common.outbox`); its rows are read with
`pending_rows` and deleted with `delete_through`, in id order (every writer holds the writers'
advisory lock, so ids commit in order and a row never appears behind the watermark).

The watermark, the first id not yet published, lives in Kafka: it is the gate group's
committed offset on partition 0 of the policy-owned decisions topic, which the gate never
consumes. One Kafka transaction publishes rows from the watermark on and commits the new
watermark: either all of it becomes visible to read_committed consumers, or none of it. Rows
below the committed watermark are deleted the next time the relay reads.

Who publishes: the instance holding the relay's session-level advisory lock in PostgreSQL
(`pg_try_advisory_lock`); the others stand by and try again every `STANDBY_POLL_S`. A killed
leader's connection closes and the lock with it, so a standby takes over within seconds. The
lock decides who *should* publish; the fixed transactional id makes sure nobody else *can*:
the new leader starts its producer before it reads the watermark, which fences an old leader
that lost its lock without noticing (paused, cut off from PostgreSQL) and aborts its open
transaction. A paused leader does lose its lock: the lock's session ends when it has been
idle for `LOCK_IDLE_LIMIT_S` (`idle_session_timeout`), and the leader reads the outbox on it
every `IDLE_RELAY_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from gemroll_common.kafka import aiokafka_client_kwargs, topic_name
from gemroll_common.logging import get_logger
from gemroll_common.outbox import OUTBOX_PUBLISHED, OutboxRow, delete_through, pending_rows
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import TRAINING_DECISIONS, Service, topic_named

from .. import metrics
from .kafka_clients import transactional_producer
from .postgres import lock_writers
from .sessions import keep_running, quietly

log = get_logger(__name__)

IDLE_RELAY_S = 0.2
"""The leader looks for rows nobody woke it for (consent changes from the API) this often."""
STANDBY_POLL_S = 1.0
"""A standby tries to take the relay over this often."""
LOCK_IDLE_LIMIT_S = 15
"""PostgreSQL ends the lock's session when the leader has not used it for this long (a paused
or hung leader): the lock goes to a standby, whose producer then fences the old one. The
leader does all its database work on that session, at least every `IDLE_RELAY_S`."""
HEARTBEAT_S = 600.0
"""Re-commit the watermark at least this often, so Kafka never expires it while idle."""

Checkpoint = Callable[[str], None]
"""Test hook called at 'after_db_commit' and 'after_kafka_commit'; may raise to crash."""


class GateRelay:
    def __init__(self, pool: asyncpg.Pool, schema: str, kafka: KafkaSettings, group: str,
                 transactional_id: str, *, max_rows: int) -> None:
        self.pool = pool
        self.schema = schema
        self.kafka = kafka
        self.group = group
        self.transactional_id = transactional_id
        self.max_rows = max_rows
        self.anchor = TopicPartition(topic_name(TRAINING_DECISIONS, kafka), 0)
        self.watermark = 0
        self._lock_name = f"policy-relay:{schema}"
        self._due = asyncio.Event()

    def wake(self) -> None:
        """New rows were committed: publish them now rather than at the next idle look."""
        self._due.set()

    # -- leadership -----------------------------------------------------------------------
    async def run(self, checkpoint: Checkpoint) -> None:
        """Lead while this instance holds the lock, else stand by; never stops on an error."""
        await keep_running(lambda: self._lead_or_stand_by(checkpoint), stage="relay",
                           event="gate_relay_failed")

    async def _lead_or_stand_by(self, checkpoint: Checkpoint) -> None:
        async with self._lock() as lock:
            if lock is None:
                await asyncio.sleep(STANDBY_POLL_S)
                return
            await self._lead(lock, checkpoint)

    @contextlib.asynccontextmanager
    async def _lock(self) -> AsyncIterator[asyncpg.Connection | None]:
        """The relay lock's connection while this instance holds it; None if another does."""
        conn = await self.pool.acquire()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))",
                                       self._lock_name):
                yield None
                return
            # reset with the rest of the session's settings when the pool takes it back
            await conn.execute(f"SET idle_session_timeout = '{LOCK_IDLE_LIMIT_S}s'")
            try:
                yield conn
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock(hashtext($1))",
                                       self._lock_name)
        finally:
            with contextlib.suppress(Exception):
                await self.pool.release(conn)

    async def _lead(self, lock: asyncpg.Connection, checkpoint: Checkpoint) -> None:
        producer = transactional_producer(self.kafka, self.transactional_id)
        await producer.start()  # fences an older leader: its open transaction is aborted
        try:
            watermark = await self.align(await self.committed(), lock)
            metrics.GATE_RELAY_LEADING.set(1)
            log.info("gate_relay_leading", group=self.group, watermark=watermark,
                     transactional_id=self.transactional_id)
            last_commit = 0.0
            while True:
                self._due.clear()
                rows = await self.pending(lock)  # raises once the lock's session is gone
                if rows or time.monotonic() - last_commit > HEARTBEAT_S:
                    await self.publish(producer, rows)
                    last_commit = time.monotonic()
                    checkpoint("after_kafka_commit")
                    if len(rows) >= self.max_rows:
                        continue  # more are waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), IDLE_RELAY_S)
        finally:
            metrics.GATE_RELAY_LEADING.set(0)
            await quietly(producer.stop())

    # -- the watermark and the rows ---------------------------------------------------------
    async def committed(self) -> int | None:
        """The watermark committed in Kafka (None: the group never committed one)."""
        reader = AIOKafkaConsumer(**aiokafka_client_kwargs(self.kafka, "gemroll-policy-watermark"),
                                  group_id=self.group, enable_auto_commit=False)
        await reader.start()
        try:
            return await reader.committed(self.anchor)
        finally:
            await reader.stop()

    async def align(self, committed: int | None, conn: asyncpg.Connection) -> int:
        """The leader starts from the committed watermark: what is below it was published."""
        async with conn.transaction():
            await lock_writers(conn, self.schema)
            if committed is None:
                first = await conn.fetchval("SELECT min(id) FROM outbox")
                self.watermark = int(first or 0)
                return self.watermark
            await _ids_above(conn, committed)
            await delete_through(conn, committed - 1)
            self.watermark = committed
            return committed

    async def protect(self, committed: int | None) -> None:
        """Any instance, before it decides: never write an outbox id below the committed
        watermark (e.g. after a restore), where the relay would not look."""
        if committed is None:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            await _ids_above(conn, committed)

    async def pending(self, conn: asyncpg.Connection) -> list[OutboxRow]:
        """Rows from the watermark on, in order; those below it (published) are deleted."""
        await delete_through(conn, self.watermark - 1)
        return await pending_rows(conn, after_id=self.watermark - 1, limit=self.max_rows)

    async def publish(self, producer: AIOKafkaProducer, rows: Sequence[OutboxRow]) -> None:
        """One Kafka transaction: `rows` and the new watermark."""
        watermark = rows[-1].id + 1 if rows else self.watermark
        async with producer.transaction():
            for row in rows:
                topic = topic_named(row.topic)
                if Service.policy not in topic.writers:  # never publish someone else's topic
                    raise PermissionError(f"policy may not write {topic.name}")
                await producer.send(
                    topic_name(topic, self.kafka), value=row.payload, key=row.key.encode(),
                    headers=[("event_type", row.event_type.encode()),
                             ("content-type", b"application/json"),
                             ("outbox-id", str(row.id).encode())])
            await producer.send_offsets_to_transaction({self.anchor: watermark}, self.group)
        self.watermark = watermark
        OUTBOX_PUBLISHED.labels(Service.policy.value).inc(len(rows))


async def _ids_above(conn: asyncpg.Connection, committed: int) -> None:
    await conn.execute(
        "SELECT setval('outbox_id_seq', $1) FROM outbox_id_seq WHERE last_value < $1",
        max(committed - 1, 1))


__all__ = ["Checkpoint", "GateRelay"]
