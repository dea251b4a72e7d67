"""What every writer of the policy schema shares: one advisory lock, the audit chain and the
outbox (the kit's table, appended with `gemroll_common.outbox.append`).

Every writer of the outbox or the audit log takes the writers' transaction-scoped advisory
lock first, so outbox ids become visible in order (the gate's relay never skips a row) and
the hash chain stays linear. A holder that stops talking (a paused or hung instance) would
stall every gate and the consent API behind it, so PostgreSQL ends a writer's transaction
that sits idle for `WRITER_IDLE_LIMIT`: it rolls back, and its work is retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from gemroll_common.outbox import OutboxMessage, append

from ...domain import AuditEntry, chain
from ...domain.audit import GENESIS

WRITER_IDLE_LIMIT = "15s"


async def lock_writers(conn: asyncpg.Connection, schema: str) -> None:
    """Serialise writers of the outbox and the audit log (released at commit)."""
    await conn.execute(
        "SELECT set_config('idle_in_transaction_session_timeout', $2, true), "
        "pg_advisory_xact_lock(hashtext($1))", f"policy-writers:{schema}", WRITER_IDLE_LIMIT)


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


async def write_records(conn: asyncpg.Connection, audit: Sequence[AuditEntry],
                        messages: Sequence[OutboxMessage]) -> None:
    """The audit entries and the events of a unit of work (the writers' lock is held)."""
    await write_audit(conn, audit)
    await append(conn, messages)


__all__ = ["lock_writers", "write_audit", "write_records"]
