"""The transactional outbox: an event is a row written in the transaction that writes the data
it announces; a relay publishes the rows to Kafka afterwards.

Every service that publishes from a database transaction keeps the same table in its schema
(`OUTBOX_TABLE_SQL`; created by a service migration):

    outbox(id bigserial, topic, message_key, event_id, event_type, payload, subject_id,
           created_at)

`subject_id` is the media (or other item) the event is about, so a service can purge or mark
the rows of erased items. Delivery is at least once: rows are deleted only after the broker
acknowledged them; consumers dedupe on `event_id`. One relay at a time per schema (a
transaction-level advisory lock); rows go out in id order, one key (user) strictly after the
other, different keys concurrently. A relay that must publish inside Kafka transactions (the
policy gate: exactly once) reads and deletes rows with `pending_rows` / `delete_through`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from gemroll_contracts import Event, Topic, parse_event, topic_named
from prometheus_client import Counter, Gauge

from .kafka import EventPublisher
from .logging import get_logger
from .process import BrokenProducerWatch
from .retry import Backoff

log = get_logger(__name__)

OUTBOX_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    message_key text NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    payload     bytea NOT NULL,
    subject_id  uuid,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (subject_id) WHERE subject_id IS NOT NULL;
"""

OUTBOX_PENDING = Gauge("gemroll_outbox_pending", "Outbox rows not yet published.", ["service"])
OUTBOX_PUBLISHED = Counter("gemroll_outbox_published_total", "Outbox rows published.",
                           ["service"])
OUTBOX_FAILURES = Counter("gemroll_outbox_relay_failures_total",
                          "Relay passes that failed (Kafka or the database down).", ["service"])


@dataclass(frozen=True)
class OutboxMessage:
    """An event to publish once the transaction that writes it commits."""

    topic: Topic
    key: str
    event: Event
    subject_id: UUID | None = None


@dataclass(frozen=True)
class OutboxRow:
    """A stored row, exactly as it will be published."""

    id: int
    topic: str
    key: str
    event_type: str
    payload: bytes
    subject_id: UUID | None = None


async def append(conn: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    """Write `messages` to the outbox; call inside the transaction that writes their data."""
    if messages:
        await conn.executemany(
            "INSERT INTO outbox (topic, message_key, event_id, event_type, payload, subject_id)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(m.topic.name, m.key, m.event.event_id, m.event.event_type, m.event.to_json(),
              m.subject_id) for m in messages])


def _row(record: asyncpg.Record) -> OutboxRow:
    return OutboxRow(id=record["id"], topic=record["topic"], key=record["message_key"],
                     event_type=record["event_type"], payload=bytes(record["payload"]),
                     subject_id=record["subject_id"])


async def pending_rows(conn: asyncpg.Connection, *, after_id: int = 0,
                       limit: int = 500) -> list[OutboxRow]:
    rows = await conn.fetch(
        "SELECT id, topic, message_key, event_type, payload, subject_id FROM outbox"
        " WHERE id > $1 ORDER BY id LIMIT $2", after_id, limit)
    return [_row(r) for r in rows]


async def delete_through(conn: asyncpg.Connection, last_id: int) -> None:
    """Delete every row up to and including `last_id` (published by a transactional relay)."""
    await conn.execute("DELETE FROM outbox WHERE id <= $1", last_id)


async def pending_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox"))


RELAY_BACKOFF = Backoff(0.5, 30.0)
Send = Callable[[OutboxRow], Awaitable[None]]
"""Publishes one row and returns once the broker acknowledged it."""
OnPublished = Callable[[asyncpg.Connection, Sequence[OutboxRow]], Awaitable[None]]
"""Runs in the relay's transaction after a batch was published (e.g. mark items announced)."""


def publisher_send(publisher: EventPublisher, *, timeout_s: float = 30.0) -> Send:
    """Re-validates the stored event against its contract and publishes it through the
    service's EventPublisher (which enforces the topic's writers)."""

    async def send(row: OutboxRow) -> None:
        event = parse_event(row.payload)
        await asyncio.wait_for(publisher.publish(topic_named(row.topic), event, key=row.key),
                               timeout_s)

    return send


class OutboxRelay:
    """Publishes the outbox when woken (after a commit that wrote it) or every `idle_s`."""

    def __init__(self, pool: asyncpg.Pool, *, schema: str, service: str, send: Send,
                 batch_size: int = 500, idle_s: float = 0.5,
                 backoff: Backoff = RELAY_BACKOFF,
                 on_published: OnPublished | None = None) -> None:
        self._pool = pool
        self._lock = f"gemroll-outbox-relay:{schema}"
        self._service = service
        self._send = send
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._backoff = backoff
        self._on_published = on_published
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was written to the outbox: publish now rather than at the next poll."""
        self._wake.set()

    async def _send_in_key_order(self, rows: Sequence[OutboxRow]) -> None:
        by_key: dict[str, list[OutboxRow]] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)

        async def in_order(same_key: list[OutboxRow]) -> None:
            for row in same_key:
                await self._send(row)

        await asyncio.gather(*(in_order(rs) for rs in by_key.values()))

    async def relay_once(self) -> int:
        """Publish and delete one batch; returns how many rows were relayed."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                                       self._lock):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, message_key, event_type, payload, subject_id FROM outbox"
                " ORDER BY id LIMIT $1", self._batch_size)
            batch = [_row(r) for r in rows]
            if batch:
                await self._send_in_key_order(batch)
                await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                                   [r.id for r in batch])
                if self._on_published is not None:
                    await self._on_published(conn, batch)
            OUTBOX_PENDING.labels(self._service).set(await pending_count(conn))
        OUTBOX_PUBLISHED.labels(self._service).inc(len(batch))
        return len(batch)

    async def drain(self) -> int:
        total = 0
        while (n := await self.relay_once()) > 0:
            total += n
        return total

    async def _count_pending(self) -> None:
        """The backlog gauge also while publishing fails (Kafka down: the backlog grows)."""
        with contextlib.suppress(Exception):  # the database may be what is down
            async with self._pool.acquire(timeout=5) as conn:
                OUTBOX_PENDING.labels(self._service).set(await pending_count(conn))

    async def run(self) -> None:
        failures = 0
        producer = BrokenProducerWatch("outbox relay")
        while True:
            self._wake.clear()
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Kafka or the database is down: retry
                failures += 1
                OUTBOX_FAILURES.labels(self._service).inc()
                producer.saw(exc)  # the rows stay for the next process
                await self._count_pending()
                delay = self._backoff.delay(failures)
                log.warning("outbox_publish_failed", error_type=type(exc).__name__,
                            error=str(exc)[:300], retry_in_s=round(delay, 2), attempt=failures)
                await asyncio.sleep(delay)
                continue
            if failures:
                log.info("outbox_publishing_resumed", after_attempts=failures)
            failures = 0
            producer.saw(None)
            if published < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_s)


__all__ = ["OUTBOX_TABLE_SQL", "OutboxMessage", "OutboxRelay", "OutboxRow", "append",
           "delete_through", "pending_count", "pending_rows", "publisher_send"]
