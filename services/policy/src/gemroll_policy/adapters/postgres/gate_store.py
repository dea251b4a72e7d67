"""The gate's state in PostgreSQL: one unit of work per batch, under the writers' lock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg
from gemroll_contracts import ActionKind, ErasureReason

from ...domain import Action, Media, MediaKey, Pseudonymizer, Tombstone, Workspace
from ...ports import COPY_CLAIM, Changes, CopyClaim, LoadRequest
from . import gate_save
from .rows import CANDIDATE_COLUMNS, CONSENT_COLUMNS, candidate_of, consent_of, split_keys
from .writers import lock_writers


class PostgresGateStore:
    def __init__(self, pool: asyncpg.Pool, schema: str, pseudonyms: Pseudonymizer) -> None:
        self.pool = pool
        self.schema = schema
        self.pseudonyms = pseudonyms

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[GateUnitOfWork]:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            yield GateUnitOfWork(conn, self.pseudonyms)

    async def record_copies(self, copies: Sequence[tuple[UUID, str]], at: datetime) -> None:
        async with self.pool.acquire() as conn:  # committed on its own, before the copies
            await conn.execute(
                "INSERT INTO copy_intents (candidate_id, training_key, written_at) "
                "SELECT c, k, $3 FROM unnest($1::uuid[], $2::text[]) AS t(c, k) "
                "ON CONFLICT (candidate_id) DO NOTHING",
                [c for c, _ in copies], [k for _, k in copies], at)


class GateUnitOfWork:
    def __init__(self, conn: asyncpg.Connection, pseudonyms: Pseudonymizer) -> None:
        self.conn = conn
        self.pseudonyms = pseudonyms

    async def load(self, request: LoadRequest) -> Workspace:
        conn = self.conn
        users = sorted(request.users | request.full_users)
        key_users, key_ids = split_keys(request.media_keys)
        consents = {
            r["user_key"]: consent_of(r)
            for r in await conn.fetch(
                f"SELECT user_key, {CONSENT_COLUMNS} FROM consent_state "
                "WHERE user_key = ANY($1::text[])", users)
        }
        media = await self._media(key_users, key_ids, sorted(request.full_users))
        loaded_users, loaded_ids = split_keys(media)
        candidate_rows = await conn.fetch(
            f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE candidate_id = ANY($1::uuid[]) "
            f"UNION SELECT c.* FROM (SELECT {CANDIDATE_COLUMNS} FROM candidates) c "
            "JOIN unnest($2::text[], $3::uuid[]) AS k(u, i) "
            "ON c.user_key = k.u AND c.media_id = k.i",
            list(request.candidate_ids), loaded_users, loaded_ids)
        candidates = [candidate_of(r) for r in candidate_rows]
        return Workspace(consents, media.values(), candidates,
                         await self._tombstones(key_users, key_ids))

    async def _media(self, key_users: list[str], key_ids: list[UUID],
                     full_users: list[str]) -> dict[MediaKey, Media]:
        """The media named, and all of the full users', each with all its actions."""
        rows = await self.conn.fetch(
            "SELECT m.user_key, m.media_id, m.first_seen_at FROM media m "
            "JOIN unnest($1::text[], $2::uuid[]) AS k(u, i) "
            "ON m.user_key = k.u AND m.media_id = k.i "
            "UNION SELECT user_key, media_id, first_seen_at FROM media "
            "WHERE user_key = ANY($3::text[])", key_users, key_ids, full_users)
        media = {(r["user_key"], r["media_id"]): Media(r["user_key"], r["media_id"],
                                                       r["first_seen_at"]) for r in rows}
        if not media:
            return media
        loaded_users, loaded_ids = split_keys(media)
        for r in await self.conn.fetch(
            "SELECT a.user_key, a.media_id, a.event_id, a.kind, a.acted_at, a.suggestion_id, "
            "a.derived_media_id FROM actions a JOIN unnest($1::text[], $2::uuid[]) AS k(u, i) "
            "ON a.user_key = k.u AND a.media_id = k.i ORDER BY a.acted_at, a.arrival",
            loaded_users, loaded_ids,
        ):
            media[(r["user_key"], r["media_id"])].actions.append(Action(
                r["event_id"], ActionKind(r["kind"]), r["acted_at"], r["suggestion_id"],
                r["derived_media_id"]))
        return media

    async def _tombstones(self, key_users: list[str], key_ids: list[UUID]) -> list[Tombstone]:
        subjects = {self.pseudonyms.subject(u): u for u in key_users}
        rows = await self.conn.fetch(
            "SELECT t.subject, t.media_id, t.reason, t.erased_at, t.candidate_ids "
            "FROM tombstones t JOIN unnest($1::text[], $2::uuid[]) AS k(s, i) "
            "ON t.subject = k.s AND t.media_id = k.i",
            [self.pseudonyms.subject(u) for u in key_users], key_ids)
        return [Tombstone(subjects[r["subject"]], r["media_id"], ErasureReason(r["reason"]),
                          r["erased_at"], set(r["candidate_ids"])) for r in rows]

    async def retention_due(self, cutoff: datetime, limit: int) -> LoadRequest:
        media_rows = await self.conn.fetch(
            "SELECT user_key, media_id FROM media WHERE NOT kept AND first_seen_at < $1 "
            "ORDER BY first_seen_at LIMIT $2", cutoff, limit)
        candidate_rows = await self.conn.fetch(
            "SELECT candidate_id, user_key, media_id FROM candidates "
            "WHERE status = 'pending' AND proposed_at < $1 ORDER BY proposed_at LIMIT $2",
            cutoff, limit)
        keys = {(r["user_key"], r["media_id"]) for r in [*media_rows, *candidate_rows]}
        return LoadRequest(
            candidate_ids=frozenset(r["candidate_id"] for r in candidate_rows),
            media_keys=frozenset(keys), users=frozenset(u for u, _ in keys))

    async def claim_copies(self, now: datetime, limit: int) -> CopyClaim:
        rows = await self.conn.fetch(
            "UPDATE copy_retries r SET next_attempt_at = $1::timestamptz + $3::interval "
            "FROM (SELECT candidate_id FROM copy_retries WHERE next_attempt_at <= $1 "
            "ORDER BY next_attempt_at LIMIT $2) due JOIN candidates c USING (candidate_id) "
            "WHERE r.candidate_id = due.candidate_id "
            "RETURNING r.candidate_id, r.trace_id, c.user_key, c.media_id",
            now, limit, COPY_CLAIM)
        keys = {(r["user_key"], r["media_id"]) for r in rows}
        return CopyClaim(
            LoadRequest(candidate_ids=frozenset(r["candidate_id"] for r in rows),
                        media_keys=frozenset(keys), users=frozenset(u for u, _ in keys)),
            {r["candidate_id"]: r["trace_id"] for r in rows})

    async def orphaned_copies(self, written_before: datetime, limit: int) -> list[str]:
        rows = await self.conn.fetch(
            "DELETE FROM copy_intents WHERE candidate_id IN (SELECT i.candidate_id "
            "FROM copy_intents i LEFT JOIN candidates c USING (candidate_id) "
            "WHERE (c.status IN ('rejected', 'retracted') AND i.written_at < $1) "
            "OR (c.candidate_id IS NULL AND i.written_at < $1 - interval '1 day') "
            "ORDER BY i.written_at LIMIT $2) RETURNING training_key", written_before, limit)
        return [r["training_key"] for r in rows]

    async def save(self, ws: Workspace, changes: Changes) -> None:
        await gate_save.save(self.conn, self.pseudonyms, ws, changes)


async def pending_candidates(pool: asyncpg.Pool) -> int:
    async with pool.acquire(timeout=2) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM candidates WHERE status = 'pending'"))
