"""Media records: reservation, acceptance (with the outbox), listing, deletion, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from gemroll_common import outbox
from gemroll_common.outbox import OutboxMessage
from gemroll_contracts import MediaUploaded

from ...domain.errors import ConsentRequired
from ...domain.media import MediaRecord
from ...domain.paging import Cursor
from ...domain.verdicts import EVERYTHING, Facets, MediaFilter, Verdict
from ...ports import DuplicateMedia, ErasedMedia
from .rows import CLEARED, COLUMNS, INSERT, insert_args, record_of
from .verdicts import filtered

_LIVE = "user_key = $1 AND state = 'accepted'"
_ERASED = "media_id, object_key, poster_key"


def _erased(rows: list[asyncpg.Record]) -> list[ErasedMedia]:
    return [ErasedMedia(r["media_id"], r["object_key"], r["poster_key"]) for r in rows]


class PgMediaRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find_live(self, user_key: str, sha256: str) -> MediaRecord | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM media WHERE user_key = $1 AND sha256 = $2"
                " AND state IN ('storing', 'accepted')", user_key, sha256)
        return record_of(row) if row else None

    async def reserve(self, record: MediaRecord, lease_s: float) -> None:
        try:
            async with self._pool.acquire() as conn:
                await conn.execute(INSERT, *insert_args(record, lease_s))
        except asyncpg.UniqueViolationError:
            existing = await self.find_live(record.user_key, record.sha256)
            if existing is None:  # the other reservation was discarded meanwhile: try again
                return await self.reserve(record, lease_s)
            raise DuplicateMedia(existing) from None

    async def renew_lease(self, media_id: UUID, lease_s: float) -> bool:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "UPDATE media SET lease_until = clock_timestamp() + make_interval(secs => $2)"
                " WHERE media_id = $1 AND state = 'storing'", media_id, float(lease_s))
        return status == "UPDATE 1"

    async def abandon_expired(self, media_id: UUID | None = None, *, limit: int = 500) -> int:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "UPDATE media SET state = 'abandoned' WHERE media_id IN ("
                " SELECT media_id FROM media WHERE state = 'storing'"
                " AND lease_until < clock_timestamp() AND ($1::uuid IS NULL OR media_id = $1)"
                " LIMIT $2 FOR UPDATE SKIP LOCKED)"
                " AND state = 'storing' AND lease_until < clock_timestamp()",
                media_id, limit)
        return int(status.split()[-1])

    async def abandoned(self, limit: int) -> list[ErasedMedia]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ERASED} FROM media WHERE state = 'abandoned' LIMIT $1", limit)
        return _erased(rows)

    async def remove_abandoned(self, media_id: UUID) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("DELETE FROM media WHERE media_id = $1 AND state = 'abandoned'",
                               media_id)

    async def accept(
        self, media_id: UUID, messages: Sequence[OutboxMessage], *,
        complete_upload: UUID | None = None,
    ) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            owner = await conn.fetchval(
                "SELECT user_key FROM media WHERE media_id = $1 AND state = 'storing'", media_id)
            if owner is None:
                return False
            # Shares the lock the consent projection's update needs: an opt-out is projected
            # either before (and this acceptance is refused) or after this commit (and the
            # erasure that follows it finds this photo).
            allowed = await conn.fetchval(
                "SELECT camera_roll FROM consent WHERE user_key = $1 FOR SHARE", owner)
            if not allowed:
                raise ConsentRequired(
                    "camera-roll uploads need the user's opt-in (consent camera_roll=true)")
            status = await conn.execute(
                "UPDATE media SET state = 'accepted', accepted_at = clock_timestamp()"
                " WHERE media_id = $1 AND state = 'storing'", media_id)
            if status != "UPDATE 1":
                return False
            await outbox.append(conn, messages)
            if complete_upload is not None:
                await conn.execute(
                    "UPDATE uploads SET state = 'completed', outcome = 'accepted', media_id = $2,"
                    " closed_at = clock_timestamp() WHERE upload_id = $1",
                    complete_upload, media_id)
        return True

    async def discard(self, media_id: UUID) -> bool:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "DELETE FROM media WHERE media_id = $1 AND state = 'storing'", media_id)
        return status == "DELETE 1"

    async def get(self, user_key: str, media_id: UUID) -> MediaRecord | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM media WHERE media_id = $1 AND user_key = $2"
                " AND state = 'accepted'", media_id, user_key)
        return record_of(row) if row else None

    async def list(self, user_key: str, after: Cursor | None, limit: int,
                   where: MediaFilter = EVERYTHING) -> list[MediaRecord]:
        params: list[object] = [user_key, limit]
        sql = f"SELECT {COLUMNS} FROM media WHERE {_LIVE}" + filtered(where, params)
        if after is not None:
            params += [after.created_at, after.media_id]
            sql += f" AND (created_at, media_id) < (${len(params) - 1}, ${len(params)})"
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql + " ORDER BY created_at DESC, media_id DESC LIMIT $2",
                                    *params)
        return [record_of(r) for r in rows]

    async def facets(self, user_key: str) -> Facets:
        async with self._pool.acquire() as conn:
            counts = await conn.fetchrow(
                "SELECT count(*) AS total, count(*) FILTER (WHERE is_gem) AS gems,"
                f" count(*) FILTER (WHERE NOT is_gem) AS junk FROM media WHERE {_LIVE}",
                user_key)
            signals = await conn.fetch(
                "SELECT split_part(r, ':', 1) AS signal, count(DISTINCT media_id) AS n"
                f" FROM media, unnest(reasons) AS r WHERE {_LIVE} AND NOT is_gem"
                " GROUP BY 1", user_key)
        return Facets.of(counts["total"], counts["gems"], counts["junk"],
                         {r["signal"]: r["n"] for r in signals})

    async def mark_deleted(self, user_key: str, media_id: UUID, message: OutboxMessage) -> str:
        async with self._pool.acquire() as conn, conn.transaction():
            state = await conn.fetchval(
                "SELECT state FROM media WHERE media_id = $1 AND user_key = $2 FOR UPDATE",
                media_id, user_key)
            if state == "deleted":
                return "deleted"
            if state != "accepted":
                return "missing"
            await conn.execute(
                "UPDATE media SET state = 'deleted', deleted_at = clock_timestamp()"
                " WHERE media_id = $1", media_id)
            await outbox.append(conn, [message])
            return "accepted"

    async def erasable(self, user_key: str, media_ids: Sequence[UUID]) -> list[ErasedMedia]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ERASED} FROM media WHERE user_key = $1"
                " AND media_id = ANY($2::uuid[]) AND state <> 'erased'",
                user_key, list(media_ids))
        return _erased(rows)

    async def inventory(
        self, user_key: str, *, created_at_or_before: datetime | None = None
    ) -> list[ErasedMedia]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ERASED} FROM media WHERE user_key = $1"
                " AND state <> 'erased' AND ($2::timestamptz IS NULL OR created_at <= $2)",
                user_key, created_at_or_before)
        return _erased(rows)

    async def tombstone(
        self, user_key: str, media_ids: Sequence[UUID], *, account: bool = False
    ) -> int:
        ids = list(media_ids)
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE media SET state = 'erased', erased_at = clock_timestamp(), "
                + ", ".join(f"{c} = NULL" for c in CLEARED) +
                " WHERE user_key = $1 AND media_id = ANY($2::uuid[]) AND state <> 'erased'",
                user_key, ids)
            # Unsent announcements go; pending user actions still leave (unless the account
            # goes). Published rows are gone already: the relay deletes what Kafka has.
            await conn.execute(
                "DELETE FROM outbox WHERE subject_id = ANY($1::uuid[])"
                " AND ($2 OR event_type = $3)", ids, account, MediaUploaded.EVENT_TYPE)
            await conn.execute(
                "DELETE FROM uploads WHERE user_key = $1 AND media_id = ANY($2::uuid[])",
                user_key, ids)
        return int(status.split()[-1])

    async def record_verdict(self, media_id: UUID, verdict: Verdict) -> bool:
        """Keeps the newest verdict (by its event time); marks the media classified."""
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "UPDATE media SET classified_at = coalesce(classified_at, $2), verdict_at = $2,"
                " category = $3, is_gem = $4, gem_score = $5, reasons = $6"
                " WHERE media_id = $1 AND state = 'accepted'"
                " AND (verdict_at IS NULL OR verdict_at < $2)",
                media_id, verdict.decided_at, verdict.category, verdict.is_gem,
                verdict.gem_score, list(verdict.reasons))
        return status == "UPDATE 1"

