"""A user's events (`events`): photos linked by time and place, planned once quiet, leased
by one planner at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from ...domain import EventRecord
from ...ports import EventRepository

_COLUMNS = "event_id, user_key, start_at, end_at, version, dirty, due_at, attempts"


def event_of(row: asyncpg.Record) -> EventRecord:
    return EventRecord(
        event_id=row["event_id"], user_key=row["user_key"], start_at=row["start_at"],
        end_at=row["end_at"], version=row["version"], dirty=row["dirty"], due_at=row["due_at"],
        attempts=row["attempts"],
    )


class PostgresEvents(EventRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, event_ids: Sequence[UUID]) -> list[EventRecord]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[])", list(event_ids))
        return [event_of(r) for r in rows]

    async def save(self, event: EventRecord) -> None:
        await self._conn.execute(
            "INSERT INTO events (event_id, user_key, start_at, end_at, version, dirty, due_at, "
            "attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO UPDATE "
            "SET start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, "
            "version = EXCLUDED.version, dirty = EXCLUDED.dirty, due_at = EXCLUDED.due_at, "
            "attempts = EXCLUDED.attempts",
            event.event_id, event.user_key, event.start_at, event.end_at, event.version,
            event.dirty, event.due_at, event.attempts,
        )

    async def delete(self, event_ids: Sequence[UUID]) -> None:
        await self._conn.execute("DELETE FROM events WHERE event_id = ANY($1::uuid[])",
                                 list(event_ids))

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime,
                        owner: UUID) -> list[EventRecord]:
        rows = await self._conn.fetch(
            "UPDATE events SET lease_until = $3, lease_owner = $4 WHERE event_id IN ("
            " SELECT event_id FROM events WHERE dirty AND due_at <= $1"
            " AND (lease_until IS NULL OR lease_until < $1)"
            f" ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {_COLUMNS}",
            now, limit, lease_until, owner)
        return sorted((event_of(r) for r in rows), key=lambda e: (e.due_at, str(e.event_id)))

    async def renew(self, event_ids: Sequence[UUID], owner: UUID,
                    lease_until: datetime) -> set[UUID]:
        rows = await self._conn.fetch(
            "UPDATE events SET lease_until = $3 WHERE event_id = ANY($1::uuid[])"
            " AND lease_owner = $2 AND lease_until IS NOT NULL RETURNING event_id",
            list(event_ids), owner, lease_until)
        return {r["event_id"] for r in rows}

    async def holds(self, event_id: UUID, owner: UUID) -> bool:
        return bool(await self._conn.fetchval(
            "SELECT true FROM events WHERE event_id = $1 AND lease_owner = $2"
            " AND lease_until IS NOT NULL FOR UPDATE", event_id, owner))

    async def finish(self, event_id: UUID, version: int) -> bool:
        status = await self._conn.execute(
            "UPDATE events SET dirty = false, lease_until = NULL, lease_owner = NULL, "
            "attempts = 0, due_at = NULL, "
            "planned_at = now() WHERE event_id = $1 AND version = $2", event_id, version)
        return status.endswith(" 1")

    async def release(self, event_id: UUID, retry_at: datetime | None = None) -> None:
        if retry_at is None:
            await self._conn.execute(
                "UPDATE events SET lease_until = NULL, lease_owner = NULL WHERE event_id = $1",
                event_id)
        else:
            await self._conn.execute(
                "UPDATE events SET lease_until = NULL, lease_owner = NULL, "
                "attempts = attempts + 1, "
                "due_at = GREATEST(due_at, $2) WHERE event_id = $1", event_id, retry_at)

    async def on_calendar_day(self, month: int, day: int, before: datetime,
                              limit: int) -> list[EventRecord]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM events"
            " WHERE EXTRACT(MONTH FROM start_at AT TIME ZONE 'UTC') = $1"
            " AND EXTRACT(DAY FROM start_at AT TIME ZONE 'UTC') = $2 AND start_at < $3"
            " ORDER BY user_key, start_at LIMIT $4", month, day, before, limit)
        return [event_of(r) for r in rows]

    async def count_open(self) -> int:
        return int(await self._conn.fetchval("SELECT count(*) FROM events WHERE dirty"))
