"""Saving a gate unit of work: the workspace's changes, the copy retries, the erasure jobs,
the audit entries and the outbox, in the unit of work's transaction (the writers' lock is
held). Rows new to the unit of work were not there at load time, under the lock: they are
copied in; rows that were loaded are updated. Batches use arrays (`unnest`): few round trips.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from ...domain import Candidate, CandidateStatus, Pseudonymizer, Workspace
from ...ports import Changes, copy_retry_delay
from .rows import CANDIDATE_COLUMNS, candidate_record, optional, split_keys, uuid_array
from .writers import write_records


async def save(conn: asyncpg.Connection, pseudonyms: Pseudonymizer, ws: Workspace,
               changes: Changes) -> None:
    await _save_consents(conn, ws)
    await _save_media(conn, ws)
    await _save_candidates(conn, ws)
    await _save_erasures(conn, pseudonyms, ws)
    await _save_copy_retries(conn, ws, changes)
    if changes.erasure_jobs:
        await conn.executemany(
            "INSERT INTO erasure_jobs (prefixes, reason) VALUES ($1, $2)",
            [(list(j.prefixes), j.reason) for j in changes.erasure_jobs])
    await write_records(conn, changes.audit, changes.messages)


async def _save_consents(conn: asyncpg.Connection, ws: Workspace) -> None:
    if not ws.changed_consents:
        return
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


async def _save_media(conn: asyncpg.Connection, ws: Workspace) -> None:
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


async def _save_candidates(conn: asyncpg.Connection, ws: Workspace) -> None:
    new_candidates = [ws.candidates[i] for i in ws.new_candidates]
    if new_candidates:
        await conn.copy_records_to_table(
            "candidates", columns=CANDIDATE_COLUMNS.split(", "),
            records=[candidate_record(c) for c in new_candidates])
    candidates = [ws.candidates[i] for i in ws.changed_candidates - ws.new_candidates
                  if i in ws.candidates]
    if candidates:
        await _update_candidates(conn, candidates)


async def _update_candidates(conn: asyncpg.Connection, cs: list[Candidate]) -> None:
    """Decisions and retractions of candidates that were already stored."""
    await conn.execute(
        "UPDATE candidates SET status = x.st, decided_at = x.da, basis = x.ba, reason = x.re, "
        "evidence = x.ev::uuid[], retracted_at = x.ra, retraction_reason = x.rr FROM unnest("
        "$1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], "
        "$7::timestamptz[], $8::text[]) AS x(c, st, da, ba, re, ev, ra, rr) "
        "WHERE candidates.candidate_id = x.c",
        [c.candidate_id for c in cs], [c.status.value for c in cs], [c.decided_at for c in cs],
        [optional(c.basis) for c in cs], [optional(c.reason) for c in cs],
        [uuid_array(c.evidence) for c in cs], [c.retracted_at for c in cs],
        [optional(c.retraction_reason) for c in cs],
    )


async def _save_erasures(conn: asyncpg.Connection, pseudonyms: Pseudonymizer,
                         ws: Workspace) -> None:
    if ws.erased:
        users, ids = split_keys(ws.erased)
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
            [pseudonyms.subject(t.user_key) for t in stones], [t.media_id for t in stones],
            [t.reason.value for t in stones], [t.erased_at for t in stones],
            [uuid_array(t.candidate_ids) for t in stones])


async def _save_copy_retries(conn: asyncpg.Connection, ws: Workspace,
                             changes: Changes) -> None:
    decided = [cid for cid in ws.changed_candidates
               if cid not in ws.candidates
               or ws.candidates[cid].status is not CandidateStatus.pending]
    decided += changes.copies_withdrawn
    if decided:
        await conn.execute("DELETE FROM copy_retries WHERE candidate_id = ANY($1)", decided)
    admitted = [cid for cid in decided if cid in ws.candidates
                and ws.candidates[cid].status is CandidateStatus.admitted]
    if admitted:  # the copy belongs to a committed admission now
        await conn.execute("DELETE FROM copy_intents WHERE candidate_id = ANY($1)", admitted)
    now = changes.now or datetime.now(UTC)
    if changes.copies_due:  # due at once; a candidate already waiting keeps its place
        await conn.execute(
            "INSERT INTO copy_retries (candidate_id, trace_id, attempts, next_attempt_at) "
            "SELECT c, t, 0, $3 FROM unnest($1::uuid[], $2::text[]) AS x(c, t) "
            "ON CONFLICT (candidate_id) DO NOTHING",
            list(changes.copies_due), list(changes.copies_due.values()), now)
    if not changes.copy_retries:
        return
    attempts = await conn.fetch(
        "INSERT INTO copy_retries (candidate_id, next_attempt_at) SELECT unnest($1::uuid[]), $2 "
        "ON CONFLICT (candidate_id) DO UPDATE SET attempts = copy_retries.attempts + 1 "
        "RETURNING candidate_id, attempts", changes.copy_retries, now)
    await conn.execute(
        "UPDATE copy_retries SET next_attempt_at = x.at FROM unnest($1::uuid[], "
        "$2::timestamptz[]) AS x(c, at) WHERE copy_retries.candidate_id = x.c",
        [r["candidate_id"] for r in attempts],
        [now + copy_retry_delay(r["attempts"]) for r in attempts])
