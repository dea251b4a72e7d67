"""The gate's outbox relay: the outbox rows go out inside the gate's Kafka transactions.

The outbox is the kit's table (`gemroll_common.outbox`); its rows are read with
`pending_rows` and deleted with `delete_through`, in id order (every writer holds the writers'
advisory lock, so ids commit in order and a row never appears behind the watermark).

The watermark, the first id not yet published, lives in Kafka: it is the gate group's
committed offset on partition 0 of the policy-owned decisions topic, which the gate never
consumes. One Kafka transaction publishes rows from the watermark on and commits, for the
gate's group, the consumed offsets together with the new watermark: either all of it becomes
visible to read_committed consumers, or none of it. Rows below the committed watermark are
deleted the next time the relay reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from gemroll_common.kafka import aiokafka_client_kwargs, topic_name
from gemroll_common.outbox import OUTBOX_PUBLISHED, OutboxRow, delete_through, pending_rows
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import TRAINING_DECISIONS, Service, topic_named

from .postgres import lock_writers


class GateRelay:
    def __init__(self, pool: asyncpg.Pool, schema: str, kafka: KafkaSettings, group: str,
                 *, max_rows: int) -> None:
        self.pool = pool
        self.schema = schema
        self.kafka = kafka
        self.group = group
        self.max_rows = max_rows
        self.anchor = TopicPartition(topic_name(TRAINING_DECISIONS, kafka), 0)
        self.watermark = 0

    async def committed(self) -> int | None:
        """The watermark committed in Kafka (None: the group never committed one)."""
        reader = AIOKafkaConsumer(**aiokafka_client_kwargs(self.kafka, "gemroll-policy-watermark"),
                                  group_id=self.group, enable_auto_commit=False)
        await reader.start()
        try:
            return await reader.committed(self.anchor)
        finally:
            await reader.stop()

    async def align(self, committed: int | None) -> int:
        """Start from the committed watermark: what is below it was published."""
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            if committed is None:
                first = await conn.fetchval("SELECT min(id) FROM outbox")
                self.watermark = int(first or 0)
                return self.watermark
            # Never hand out an id below the committed watermark (e.g. after a restore).
            await conn.execute(
                "SELECT setval('outbox_id_seq', $1) FROM outbox_id_seq WHERE last_value < $1",
                max(committed - 1, 1))
            await delete_through(conn, committed - 1)
            self.watermark = committed
            return committed

    async def pending(self) -> list[OutboxRow]:
        """Rows from the watermark on, in order; those below it (published) are deleted."""
        async with self.pool.acquire() as conn:
            await delete_through(conn, self.watermark - 1)
            return await pending_rows(conn, after_id=self.watermark - 1, limit=self.max_rows)

    async def publish(self, producer: AIOKafkaProducer, rows: Sequence[OutboxRow],
                      offsets: dict[TopicPartition, int]) -> None:
        """One Kafka transaction: `rows`, the consumed `offsets` and the new watermark."""
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
            # aiokafka commits offsets of one group per transaction: input offsets and the
            # watermark go together.
            await producer.send_offsets_to_transaction(
                {**offsets, self.anchor: watermark}, self.group)
        self.watermark = watermark
        OUTBOX_PUBLISHED.labels(Service.policy.value).inc(len(rows))


__all__ = ["GateRelay"]
