"""Relays the outbox to Kafka: rows are deleted only after the broker acknowledged them.

One relay at a time per schema (a transaction-level advisory lock), rows in id order, and
per message key (user) strictly one after the other; different users are sent concurrently.
A crash between publishing and deleting publishes a row again: consumers dedupe on the
event id (suggestion events also carry a revision), so delivery is at least once, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
from gemroll_common.kafka import EventPublisher
from gemroll_common.logging import get_logger
from gemroll_contracts import parse_event, topic_named

from ..metrics import OUTBOX_PENDING

log = get_logger(__name__)

Send = Callable[[str, bytes, str], Awaitable[None]]
"""send(topic name, event JSON, key)."""


def publisher_send(publisher: EventPublisher) -> Send:
    async def send(topic: str, payload: bytes, key: str) -> None:
        await publisher.publish(topic_named(topic), parse_event(payload), key=key)

    return send


async def relay_once(pool: asyncpg.Pool, schema: str, send: Send, batch: int = 500) -> int:
    """Publish and delete up to `batch` rows; returns how many were relayed."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))",
                                   f"{schema}:outbox"):
            return 0
        rows = await conn.fetch(
            "SELECT id, topic, message_key, payload FROM outbox ORDER BY id LIMIT $1", batch)
        if not rows:
            OUTBOX_PENDING.set(0)
            return 0
        by_key: dict[str, list[asyncpg.Record]] = {}
        for row in rows:
            by_key.setdefault(row["message_key"], []).append(row)

        async def send_in_order(records: list[asyncpg.Record]) -> None:
            for r in records:
                await send(r["topic"], bytes(r["payload"]), r["message_key"])

        await asyncio.gather(*(send_in_order(rs) for rs in by_key.values()))
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                           [r["id"] for r in rows])
        OUTBOX_PENDING.set(await conn.fetchval("SELECT count(*) FROM outbox"))
        return len(rows)


class OutboxRelay:
    """Background task: relays when woken (after a commit that wrote the outbox) or on a timer."""

    def __init__(self, pool: asyncpg.Pool, schema: str, send: Send, interval_s: float) -> None:
        self._pool = pool
        self._schema = schema
        self._send = send
        self._interval_s = interval_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        total = 0
        while (n := await relay_once(self._pool, self._schema, self._send)) > 0:
            total += n
        return total

    async def run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self.drain()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Kafka or DB down: keep the rows, retry
                failures += 1
                log.warning("outbox_relay_failed", error_type=type(exc).__name__,
                            error=str(exc)[:300], failures=failures)
            delay = min(30.0, self._interval_s * 2 ** failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
