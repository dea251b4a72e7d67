"""The audit log, read back in order (the training report and the auditors' check)."""

from __future__ import annotations

import asyncpg

from ...domain import AuditRecord


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
