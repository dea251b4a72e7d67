"""The consent ledger in PostgreSQL: the append-only ledger and the current state per user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from ...domain import Consent
from ...ports import Changes
from .rows import CONSENT_COLUMNS, consent_of
from .writers import lock_writers, write_records


class PostgresConsentStore:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    async def current(self, user_key: str) -> Consent | None:
        async with self.pool.acquire() as conn:
            return consent_of(await conn.fetchrow(
                f"SELECT {CONSENT_COLUMNS} FROM consent_state WHERE user_key = $1", user_key))

    @asynccontextmanager
    async def change(self, user_key: str) -> AsyncIterator[ConsentUnitOfWork]:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_writers(conn, self.schema)
            current = consent_of(await conn.fetchrow(
                f"SELECT {CONSENT_COLUMNS} FROM consent_state "
                "WHERE user_key = $1 FOR UPDATE", user_key))
            yield ConsentUnitOfWork(conn, current)


class ConsentUnitOfWork:
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
        await write_records(self.conn, changes.audit, changes.messages)
