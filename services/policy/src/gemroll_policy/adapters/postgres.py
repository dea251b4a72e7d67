"""PostgreSQL adapters: gate state, consent ledger, outbox, audit chain and erasure queue.

Every writer of the outbox or the audit log takes one transaction-scoped advisory lock first,
so outbox sequence numbers become visible in order (the relay never skips a row) and the
hash chain stays linear. Batches use array parameters (`unnest`) to keep round trips few.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from gemroll_contracts import (
    ActionKind,
    AdmissionBasis,
    ErasureReason,
    RejectionReason,
    RetractionReason,
)

from ..domain import (
    Action,
    AuditRecord,
    Candidate,
    CandidateStatus,
    Consent,
    Media,
    MediaKey,
    Pseudonymizer,
    Tombstone,
    Workspace,
    chain,
)
from ..domain.audit import GENESIS, AuditEntry
from ..ports import (
    Changes,
    ErasureJob,
    LoadRequest,
    OutboundMessage,
    OutboxRow,
    copy_retry_delay,
)

_CANDIDATE_COLUMNS = (
    "candidate_id, user_key, media_id, source, bucket, object_key, derived_media_id, "
    "proposed_at, trace_id, status, decided_at, basis, reason, evidence, retracted_at, "
    "retraction_reason"
)

_CONSENT_COLUMNS = (
    "camera_roll, training_opt_out, ledger_seq, changed_at, erased_through, allowed_since"
)


async def lock_writers(conn: asyncpg.Connection, schema: str) -> None:
    """Serialise writers of the outbox and the audit log (released at commit)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"policy-writers:{schema}")


# -- shared writers ------------------------------------------------------------------------
async def write_outbox(conn: asyncpg.Connection, messages: Sequence[OutboundMessage]
                       ) -> list[OutboxRow]:
    if not messages:
        return []
    last = await conn.fetchval("SELECT setval('outbox_seq', nextval('outbox_seq') + $1 - 1)",
                               len(messages))
    first = last - len(messages) + 1
    rows = [OutboxRow(first + i, m) for i, m in enumerate(messages)]
    await conn.copy_records_to_table(
        "outbox", columns=["seq", "topic", "key", "value", "event_type"],
        records=[(r.seq, r.message.topic, r.message.key, r.message.value, r.message.event_type)
                 for r in rows])
    return rows


async def write_audit(conn: asyncpg.Connection, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    last = await conn.fetchrow("SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    after_seq, prev_hash = (last["seq"], last["row_hash"]) if last else (0, GENESIS)
    records = chain(entries, after_seq=after_seq, prev_hash=prev_hash,
                    recorded_at=datetime.now(UTC))
    await conn.execute(
        "INSERT INTO audit_log (seq, recorded_at, subject, entries, prev_hash, row_hash) "
        "SELECT s, r, sub, e::jsonb, p, h FROM unnest($1::bigint[], $2::timestamptz[], "
        "$3::text[], $4::text[], $5::text[], $6::text[]) AS t(s, r, sub, e, p, h)",
        [r.seq for r in records], [r.recorded_at for r in records],
        [r.subject for r in records], [r.entries_json for r in records],
        [r.prev_hash for r in records], [r.row_hash for r in records],
    )


def _keys(keys: Iterable[MediaKey]) -> tuple[list[str], list[UUID]]:
    users, ids = [], []
    for user_key, media_id in keys:
        users.append(user_key)
        ids.append(media_id)
    return users, ids


# -- gate ----------------------------------------------------------------------------------
class PostgresGateStore:
    def __init__(self, pool: asyncpg.Pool, schema: str, pseudonyms: Pseudonymizer) -> None:
        self.pool = pool
        self.schema = schema
        self.pseudonyms = pseudonyms

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[_GateUnitOfWork]:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            yield _GateUnitOfWork(conn, self.pseudonyms)

    async def record_copies(self, copies: Sequence[tuple[UUID, str]], at: datetime) -> None:
        async with self.pool.acquire() as conn:  # committed on its own, before the copies
            await conn.execute(
                "INSERT INTO copy_intents (candidate_id, training_key, written_at) "
                "SELECT c, k, $3 FROM unnest($1::uuid[], $2::text[]) AS t(c, k) "
                "ON CONFLICT (candidate_id) DO NOTHING",
                [c for c, _ in copies], [k for _, k in copies], at)


class _GateUnitOfWork:
    def __init__(self, conn: asyncpg.Connection, pseudonyms: Pseudonymizer) -> None:
        self.conn = conn
        self.pseudonyms = pseudonyms

    async def load(self, request: LoadRequest) -> Workspace:
        conn = self.conn
        users = sorted(request.users | request.full_users)
        full = sorted(request.full_users)
        key_users, key_ids = _keys(request.media_keys)

        consents = {
            r["user_key"]: _consent(r)
            for r in await conn.fetch(
                f"SELECT user_key, {_CONSENT_COLUMNS} FROM consent_state "
                "WHERE user_key = ANY($1::text[])", users)
        }
        media_rows = await conn.fetch(
            "SELECT m.user_key, m.media_id, m.first_seen_at FROM media m "
            "JOIN unnest($1::text[], $2::uuid[]) AS k(u, i) "
            "ON m.user_key = k.u AND m.media_id = k.i "
            "UNION SELECT user_key, media_id, first_seen_at FROM media "
            "WHERE user_key = ANY($3::text[])", key_users, key_ids, full)
        media = {(r["user_key"], r["media_id"]): Media(r["user_key"], r["media_id"],
                                                       r["first_seen_at"]) for r in media_rows}
        if media:
            loaded_users, loaded_ids = _keys(media)
            for r in await conn.fetch(
                "SELECT a.user_key, a.media_id, a.event_id, a.kind, a.acted_at, a.suggestion_id, "
                "a.derived_media_id FROM actions a JOIN unnest($1::text[], $2::uuid[]) AS k(u, i) "
                "ON a.user_key = k.u AND a.media_id = k.i ORDER BY a.acted_at, a.arrival",
                loaded_users, loaded_ids,
            ):
                media[(r["user_key"], r["media_id"])].actions.append(Action(
                    r["event_id"], ActionKind(r["kind"]), r["acted_at"], r["suggestion_id"],
                    r["derived_media_id"]))
        else:
            loaded_users, loaded_ids = [], []

        candidate_rows = await conn.fetch(
            f"SELECT {_CANDIDATE_COLUMNS} FROM candidates WHERE candidate_id = ANY($1::uuid[]) "
            f"UNION SELECT c.* FROM (SELECT {_CANDIDATE_COLUMNS} FROM candidates) c "
            "JOIN unnest($2::text[], $3::uuid[]) AS k(u, i) "
            "ON c.user_key = k.u AND c.media_id = k.i",
            list(request.candidate_ids), loaded_users, loaded_ids)
        candidates = [_candidate(r) for r in candidate_rows]

        subjects = {self.pseudonyms.subject(u): u for u in key_users}
        tombstone_rows = await conn.fetch(
            "SELECT t.subject, t.media_id, t.reason, t.erased_at, t.candidate_ids "
            "FROM tombstones t JOIN unnest($1::text[], $2::uuid[]) AS k(s, i) "
            "ON t.subject = k.s AND t.media_id = k.i",
            [self.pseudonyms.subject(u) for u in key_users], key_ids)
        tombstones = [Tombstone(subjects[r["subject"]], r["media_id"], ErasureReason(r["reason"]),
                                r["erased_at"], set(r["candidate_ids"])) for r in tombstone_rows]
        return Workspace(consents, media.values(), candidates, tombstones)

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

    async def copy_retries_due(self, now: datetime, limit: int) -> LoadRequest:
        rows = await self.conn.fetch(
            "SELECT r.candidate_id, c.user_key, c.media_id FROM copy_retries r "
            "JOIN candidates c USING (candidate_id) WHERE r.next_attempt_at <= $1 "
            "ORDER BY r.next_attempt_at LIMIT $2", now, limit)
        keys = {(r["user_key"], r["media_id"]) for r in rows}
        return LoadRequest(candidate_ids=frozenset(r["candidate_id"] for r in rows),
                           media_keys=frozenset(keys), users=frozenset(u for u, _ in keys))

    async def orphaned_copies(self, written_before: datetime, limit: int) -> list[str]:
        rows = await self.conn.fetch(
            "DELETE FROM copy_intents WHERE candidate_id IN (SELECT i.candidate_id "
            "FROM copy_intents i LEFT JOIN candidates c USING (candidate_id) "
            "WHERE (c.status IN ('rejected', 'retracted') AND i.written_at < $1) "
            "OR (c.candidate_id IS NULL AND i.written_at < $1 - interval '1 day') "
            "ORDER BY i.written_at LIMIT $2) RETURNING training_key", written_before, limit)
        return [r["training_key"] for r in rows]

    async def _save_copy_retries(self, ws: Workspace, changes: Changes) -> None:
        decided = [cid for cid in ws.changed_candidates
                   if cid not in ws.candidates
                   or ws.candidates[cid].status is not CandidateStatus.pending]
        if decided:
            await self.conn.execute("DELETE FROM copy_retries WHERE candidate_id = ANY($1)",
                                    decided)
        admitted = [cid for cid in decided if cid in ws.candidates
                    and ws.candidates[cid].status is CandidateStatus.admitted]
        if admitted:  # the copy belongs to a committed admission now
            await self.conn.execute("DELETE FROM copy_intents WHERE candidate_id = ANY($1)",
                                    admitted)
        if changes.copy_retries:
            now = changes.now or datetime.now(UTC)
            await self.conn.execute(
                "INSERT INTO copy_retries (candidate_id, next_attempt_at) "
                "SELECT unnest($1::uuid[]), $2 ON CONFLICT (candidate_id) DO UPDATE SET "
                "attempts = copy_retries.attempts + 1, next_attempt_at = $2 + "
                "make_interval(secs => least(power(2, copy_retries.attempts), 60))",
                changes.copy_retries, now + copy_retry_delay(1))

    async def save(self, ws: Workspace, changes: Changes) -> list[OutboxRow]:
        conn = self.conn
        if ws.changed_consents:
            # Loaded under the writers' lock, so the workspace holds the current row.
            consents = [(u, ws.consents[u]) for u in sorted(ws.changed_consents)]
            await conn.execute(
                "INSERT INTO consent_state (user_key, camera_roll, training_opt_out, ledger_seq, "
                "changed_at, erased_through, allowed_since) SELECT * FROM unnest($1::text[], "
                "$2::bool[], $3::bool[], $4::int[], $5::timestamptz[], $6::int[], "
                "$7::timestamptz[]) ON CONFLICT (user_key) DO UPDATE SET "
                "camera_roll = EXCLUDED.camera_roll, training_opt_out = EXCLUDED.training_opt_out, "
                "ledger_seq = EXCLUDED.ledger_seq, changed_at = EXCLUDED.changed_at, "
                "erased_through = EXCLUDED.erased_through, allowed_since = EXCLUDED.allowed_since",
                [u for u, _ in consents], [c.camera_roll for _, c in consents],
                [c.training_opt_out for _, c in consents], [c.ledger_seq for _, c in consents],
                [c.changed_at for _, c in consents], [c.erased_through for _, c in consents],
                [c.allowed_since for _, c in consents])
        # Rows new to this unit of work were not there at load time, under the writers'
        # lock: they are copied in; rows that were loaded are updated.
        new_media = [ws.media[k] for k in ws.new_media]
        if new_media:
            await conn.copy_records_to_table(
                "media", columns=["user_key", "media_id", "first_seen_at", "kept"],
                records=[(m.user_key, m.media_id, m.first_seen_at, m.kept) for m in new_media])
        media = [ws.media[k] for k in ws.changed_media - ws.new_media if k in ws.media]
        if media:
            await conn.execute(
                "UPDATE media SET first_seen_at = u.f, kept = u.k FROM unnest($1::text[], "
                "$2::uuid[], $3::timestamptz[], $4::bool[]) AS u(uk, i, f, k) "
                "WHERE media.user_key = u.uk AND media.media_id = u.i",
                [m.user_key for m in media], [m.media_id for m in media],
                [m.first_seen_at for m in media], [m.kept for m in media])
        if ws.new_actions:
            acts = ws.new_actions
            await conn.execute(
                "INSERT INTO actions (event_id, user_key, media_id, kind, acted_at, suggestion_id, "
                "derived_media_id) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], "
                "$4::text[], $5::timestamptz[], $6::uuid[], $7::uuid[]) ON CONFLICT DO NOTHING",
                [a.event_id for _, a in acts], [k[0] for k, _ in acts], [k[1] for k, _ in acts],
                [a.kind.value for _, a in acts], [a.acted_at for _, a in acts],
                [a.suggestion_id for _, a in acts], [a.derived_media_id for _, a in acts])
        new_candidates = [ws.candidates[i] for i in ws.new_candidates]
        if new_candidates:
            await conn.copy_records_to_table(
                "candidates", columns=_CANDIDATE_COLUMNS.split(", "),
                records=[_candidate_record(c) for c in new_candidates])
        candidates = [ws.candidates[i] for i in ws.changed_candidates - ws.new_candidates
                      if i in ws.candidates]
        if candidates:
            await _update_candidates(conn, candidates)
        if ws.erased:
            users, ids = _keys(ws.erased)
            for table in ("candidates", "actions", "media"):
                await conn.execute(
                    f"DELETE FROM {table} t USING unnest($1::text[], $2::uuid[]) AS k(u, i) "
                    "WHERE t.user_key = k.u AND t.media_id = k.i", users, ids)
        if ws.changed_tombstones:
            stones = [ws.tombstones[k] for k in ws.changed_tombstones]
            await conn.execute(
                "INSERT INTO tombstones (subject, media_id, reason, erased_at, candidate_ids) "
                "SELECT s, m, r, e, c::uuid[] FROM unnest($1::text[], $2::uuid[], $3::text[], "
                "$4::timestamptz[], $5::text[]) AS t(s, m, r, e, c) "
                "ON CONFLICT (subject, media_id) DO UPDATE SET candidate_ids = ARRAY("
                "SELECT DISTINCT unnest(tombstones.candidate_ids || EXCLUDED.candidate_ids))",
                [self.pseudonyms.subject(t.user_key) for t in stones], [t.media_id for t in stones],
                [t.reason.value for t in stones], [t.erased_at for t in stones],
                [_uuid_array(t.candidate_ids) for t in stones])
        await self._save_copy_retries(ws, changes)
        if changes.erasure_jobs:
            await conn.executemany(
                "INSERT INTO erasure_jobs (prefixes, reason) VALUES ($1, $2)",
                [(list(j.prefixes), j.reason) for j in changes.erasure_jobs])
        await write_audit(conn, changes.audit)
        return await write_outbox(conn, changes.messages)


def _opt(value: Any) -> Any:
    return None if value is None else getattr(value, "value", value)


def _candidate_record(c: Candidate) -> tuple[Any, ...]:
    """A row in `_CANDIDATE_COLUMNS` order."""
    return (c.candidate_id, c.user_key, c.media_id, c.source, c.bucket, c.object_key,
            c.derived_media_id, c.proposed_at, c.trace_id, c.status.value, c.decided_at,
            _opt(c.basis), _opt(c.reason), list(c.evidence), c.retracted_at,
            _opt(c.retraction_reason))


async def _update_candidates(conn: asyncpg.Connection, cs: list[Candidate]) -> None:
    """Decisions and retractions of candidates that were already stored."""
    await conn.execute(
        "UPDATE candidates SET status = x.st, decided_at = x.da, basis = x.ba, reason = x.re, "
        "evidence = x.ev::uuid[], retracted_at = x.ra, retraction_reason = x.rr FROM unnest("
        "$1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], "
        "$7::timestamptz[], $8::text[]) AS x(c, st, da, ba, re, ev, ra, rr) "
        "WHERE candidates.candidate_id = x.c",
        [c.candidate_id for c in cs], [c.status.value for c in cs], [c.decided_at for c in cs],
        [_opt(c.basis) for c in cs], [_opt(c.reason) for c in cs],
        [_uuid_array(c.evidence) for c in cs], [c.retracted_at for c in cs],
        [_opt(c.retraction_reason) for c in cs],
    )


def _uuid_array(ids: Iterable[UUID]) -> str:
    return "{" + ",".join(str(i) for i in ids) + "}"


def _candidate(r: asyncpg.Record) -> Candidate:
    return Candidate(
        candidate_id=r["candidate_id"], user_key=r["user_key"], media_id=r["media_id"],
        source=r["source"], bucket=r["bucket"], object_key=r["object_key"],
        proposed_at=r["proposed_at"], derived_media_id=r["derived_media_id"],
        status=CandidateStatus(r["status"]), decided_at=r["decided_at"],
        basis=AdmissionBasis(r["basis"]) if r["basis"] else None,
        reason=RejectionReason(r["reason"]) if r["reason"] else None,
        evidence=tuple(r["evidence"]), retracted_at=r["retracted_at"],
        retraction_reason=RetractionReason(r["retraction_reason"]) if r["retraction_reason"]
        else None,
        trace_id=r["trace_id"],
    )


# -- consent -------------------------------------------------------------------------------
class PostgresConsentStore:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    async def current(self, user_key: str) -> Consent | None:
        async with self.pool.acquire() as conn:
            return _consent(await conn.fetchrow(
                f"SELECT {_CONSENT_COLUMNS} FROM consent_state "
                "WHERE user_key = $1", user_key))

    @asynccontextmanager
    async def change(self, user_key: str) -> AsyncIterator[_ConsentUnitOfWork]:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            current = _consent(await conn.fetchrow(
                f"SELECT {_CONSENT_COLUMNS} FROM consent_state "
                "WHERE user_key = $1 FOR UPDATE", user_key))
            yield _ConsentUnitOfWork(conn, current)


class _ConsentUnitOfWork:
    def __init__(self, conn: asyncpg.Connection, current: Consent | None) -> None:
        self.conn = conn
        self.current = current

    async def append(self, user_key: str, consent: Consent, erase_data: bool, event_id: UUID,
                     changes: Changes) -> None:
        await self.conn.execute(
            "INSERT INTO consent_ledger (user_key, ledger_seq, camera_roll, training_opt_out, "
            "erase_data, changed_at, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            user_key, consent.ledger_seq, consent.camera_roll, consent.training_opt_out,
            erase_data, consent.changed_at, event_id)
        await self.conn.execute(
            "INSERT INTO consent_state (user_key, camera_roll, training_opt_out, ledger_seq, "
            "changed_at, allowed_since) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (user_key) DO UPDATE SET "
            "camera_roll = EXCLUDED.camera_roll, training_opt_out = EXCLUDED.training_opt_out, "
            "ledger_seq = EXCLUDED.ledger_seq, changed_at = EXCLUDED.changed_at, "
            "allowed_since = EXCLUDED.allowed_since",
            user_key, consent.camera_roll, consent.training_opt_out, consent.ledger_seq,
            consent.changed_at, consent.allowed_since)
        await write_audit(self.conn, changes.audit)
        await write_outbox(self.conn, changes.messages)


def _consent(row: asyncpg.Record | None) -> Consent | None:
    if row is None:
        return None
    return Consent(row["camera_roll"], row["training_opt_out"], row["ledger_seq"],
                   row["changed_at"], row["erased_through"], row["allowed_since"])


# -- outbox --------------------------------------------------------------------------------
class PostgresOutbox:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    async def pending(self, from_seq: int, limit: int) -> list[OutboxRow]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "WITH published AS (DELETE FROM outbox WHERE seq < $1) "
                "SELECT seq, topic, key, value, event_type FROM outbox WHERE seq >= $1 "
                "ORDER BY seq LIMIT $2", from_seq, limit)
        return [OutboxRow(r["seq"], OutboundMessage(r["topic"], r["key"], r["value"],
                                                    r["event_type"])) for r in rows]

    async def align(self, committed: int | None) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            if committed is None:
                first = await conn.fetchval("SELECT min(seq) FROM outbox")
                return int(first or 0)
            # Never hand out a seq below the committed watermark (e.g. after a restore).
            await conn.execute(
                "SELECT setval('outbox_seq', $1) FROM outbox_seq WHERE last_value < $1",
                max(committed - 1, 1))
            await conn.execute("DELETE FROM outbox WHERE seq < $1", committed)
            return committed

    async def size(self) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM outbox"))


# -- audit, erasure queue, gauges ----------------------------------------------------------
class PostgresAuditReader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def records(self, subject: str | None = None) -> list[AuditRecord]:
        query = "SELECT seq, recorded_at, subject, entries, prev_hash, row_hash FROM audit_log"
        args = [] if subject is None else [subject]
        if subject is not None:
            query += " WHERE subject = $1"
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(query + " ORDER BY seq", *args)
        return [AuditRecord(r["seq"], r["recorded_at"], r["subject"], r["entries"],
                            r["prev_hash"], r["row_hash"]) for r in rows]


class PostgresErasureQueue:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def due(self, limit: int) -> list[ErasureJob]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT job_id, prefixes, reason FROM erasure_jobs ORDER BY job_id LIMIT $1", limit)
        return [ErasureJob(tuple(r["prefixes"]), r["reason"], r["job_id"]) for r in rows]

    async def done(self, job_id: int) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM erasure_jobs WHERE job_id = $1", job_id)

    async def failed(self, job_id: int, error: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE erasure_jobs SET attempts = attempts + 1, last_error = $2 "
                "WHERE job_id = $1", job_id, error[:2000])


async def pending_candidates(pool: asyncpg.Pool) -> int:
    async with pool.acquire(timeout=2) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM candidates WHERE status = 'pending'"))
