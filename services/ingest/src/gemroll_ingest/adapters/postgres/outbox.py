"""The transactional outbox: events are rows written with the data they announce, and a single
relay publishes them in order."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...ports import OutboxMessage, PendingMessage, PublishBatch


async def insert_outbox(conn: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    """Call inside the transaction that writes the data the events describe."""
    await conn.executemany(
        "INSERT INTO outbox (topic, message_key, event_id, event_type, media_id, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(m.topic.name, m.key, m.event.event_id, m.event.event_type, m.media_id,
          m.event.to_json()) for m in messages],
    )


class PgOutboxStore:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._lock_name = f"gemroll-ingest-outbox-relay:{schema}"

    async def claim_and_publish(self, limit: int, publish: PublishBatch) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            # One active relay per schema keeps every user's events in their original order.
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                                       self._lock_name):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, message_key, event_type, media_id, payload FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            if not rows:
                return 0
            await publish([
                PendingMessage(id=r["id"], topic=r["topic"], key=r["message_key"],
                               event_type=r["event_type"], payload=bytes(r["payload"]))
                for r in rows
            ])
            await conn.execute("UPDATE outbox SET published_at = clock_timestamp()"
                               " WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
            announced = [r["media_id"] for r in rows if r["event_type"] == "media.uploaded"]
            if announced:
                await conn.execute(
                    "UPDATE media SET announced_at = clock_timestamp()"
                    " WHERE media_id = ANY($1::uuid[]) AND announced_at IS NULL", announced)
            return len(rows)

    async def pending_count(self) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"))

    async def purge_published(self, older_than_s: int) -> int:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "DELETE FROM outbox o WHERE o.published_at IS NOT NULL AND ("
                " o.published_at < clock_timestamp() - make_interval(secs => $1)"
                " OR EXISTS (SELECT 1 FROM media m WHERE m.media_id = o.media_id"
                " AND m.state = 'erased'))", float(older_than_s))
        return int(status.split()[-1])
