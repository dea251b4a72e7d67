"""The result store in PostgreSQL (schema `classifier`): verdicts, embeddings, groups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import numpy as np
from gemroll_contracts import MediaClassified, TrainingCandidate

from ..domain.duplicates import Shot
from ..ports import ResultRow, StoredResult

_SIGN = 1 << 63


def _to_bigint(phash: int | None) -> int | None:
    """64-bit hash -> signed bigint."""
    return None if phash is None else (phash - (1 << 64) if phash >= _SIGN else phash)


def _from_bigint(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


class PostgresResults:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def stored(self, media_ids: Sequence[UUID]) -> dict[UUID, StoredResult]:
        if not media_ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT media_id, classified_event, candidate_event FROM media_results "
            "WHERE media_id = ANY($1::uuid[])", list(media_ids))
        return {r["media_id"]: StoredResult(
            classified=MediaClassified.read(r["classified_event"]),
            candidate=TrainingCandidate.read(r["candidate_event"])
            if r["candidate_event"] else None) for r in rows}

    async def recent_shots(self, user_key: str, since: datetime, limit: int) -> list[Shot]:
        rows = await self._pool.fetch(
            "SELECT media_id, category, phash, embedding, quality_score, captured_at,"
            " duplicate_group, current_best FROM media_results"
            " WHERE user_key = $1 AND embedding IS NOT NULL"
            " AND coalesce(captured_at, classified_at) >= $2"
            " ORDER BY coalesce(captured_at, classified_at) DESC LIMIT $3",
            user_key, since, limit)
        return [Shot(media_id=str(r["media_id"]), category=r["category"],
                     phash=_from_bigint(r["phash"]),
                     embedding=np.frombuffer(r["embedding"], dtype="<f4"),
                     quality_score=float(r["quality_score"]), captured_at=r["captured_at"],
                     group_id=str(r["duplicate_group"]) if r["duplicate_group"] else None,
                     is_best=r["current_best"]) for r in rows]

    async def erased(self, media_ids: Sequence[UUID]) -> set[UUID]:
        if not media_ids:
            return set()
        rows = await self._pool.fetch(
            "SELECT media_id FROM erased_media WHERE media_id = ANY($1::uuid[])",
            list(media_ids))
        return {r["media_id"] for r in rows}

    async def save(self, rows: Sequence[ResultRow], group_bests: dict[UUID, UUID]) -> set[UUID]:
        inserted: set[UUID] = set()
        async with self._pool.acquire() as conn, conn.transaction():
            # Shared locks on the owners and the ids; an erasure takes them exclusively, so it
            # runs wholly before (its tombstones are seen below) or after (it deletes these).
            await _lock(conn, rows, shared=True)
            tombstoned = {r["media_id"] for r in await conn.fetch(
                "SELECT media_id FROM erased_media WHERE media_id = ANY($1::uuid[])",
                [r.media_id for r in rows])}
            for r in rows:
                if r.media_id in tombstoned:
                    continue
                media_id = await conn.fetchval(
                    "INSERT INTO media_results (media_id, user_key, captured_at, category,"
                    " gem_score, is_gem, quality_score, duplicate_group, is_best, current_best,"
                    " phash, embedding, reasons, classified_event, candidate_event)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
                    " ON CONFLICT (media_id) DO NOTHING RETURNING media_id",
                    r.media_id, r.user_key, r.captured_at, r.category, r.gem_score, r.is_gem,
                    r.quality_score, r.duplicate_group, r.is_best, r.is_best,
                    _to_bigint(r.phash),
                    r.embedding.astype("<f4").tobytes() if r.embedding is not None else None,
                    list(r.reasons), r.classified.model_dump(mode="json"),
                    r.candidate.model_dump(mode="json") if r.candidate else None)
                if media_id is not None:
                    inserted.add(media_id)
            if group_bests:
                await conn.execute(
                    "UPDATE media_results m SET current_best = (m.media_id = b.best)"
                    " FROM unnest($1::uuid[], $2::uuid[]) AS b(grp, best)"
                    " WHERE m.duplicate_group = b.grp",
                    list(group_bests), list(group_bests.values()))
        return inserted

    async def erase(self, user_key: str, media_ids: Sequence[UUID], *,
                    account: bool = False) -> int:
        """Delete the rows (all of the user's with `account`) and tombstone their ids, in one
        transaction. Idempotent."""
        ids = sorted(set(media_ids))
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                               _USER_LOCK, user_key)
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext(m::text))"
                " FROM unnest($2::uuid[]) AS m ORDER BY m", _MEDIA_LOCK, ids)
            if account:
                deleted = await conn.fetch(
                    "DELETE FROM media_results WHERE user_key = $1 RETURNING media_id", user_key)
            else:
                deleted = await conn.fetch(
                    "DELETE FROM media_results WHERE user_key = $1"
                    " AND media_id = ANY($2::uuid[]) RETURNING media_id", user_key, ids)
            await conn.execute(
                "INSERT INTO erased_media (media_id) SELECT unnest($1::uuid[])"
                " ON CONFLICT (media_id) DO NOTHING",
                sorted(set(ids) | {r["media_id"] for r in deleted}))
        return len(deleted)


_USER_LOCK = 0x67E1  # advisory lock classes: one per owner, one per media id
_MEDIA_LOCK = 0x67E2


async def _lock(conn: asyncpg.Connection, rows: Sequence[ResultRow], *, shared: bool) -> None:
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    users = sorted({r.user_key for r in rows})
    ids = sorted({r.media_id for r in rows})
    await conn.execute(f"SELECT {fn}($1, hashtext(u)) FROM unnest($2::text[]) AS u ORDER BY u",
                       _USER_LOCK, users)
    await conn.execute(
        f"SELECT {fn}($1, hashtext(m::text)) FROM unnest($2::uuid[]) AS m ORDER BY m",
        _MEDIA_LOCK, ids)
