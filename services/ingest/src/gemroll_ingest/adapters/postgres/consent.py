"""The consent projection table. The contract's rule (`ConsentChangedData.supersedes`: the
higher ledger_seq wins) is applied in the upsert itself, so concurrent deliveries cannot
regress it."""

from __future__ import annotations

import asyncpg

from ...domain.consent import ConsentState


class PgConsentRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, user_key: str) -> ConsentState | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT user_key, camera_roll, training_opt_out, ledger_seq, changed_at"
                " FROM consent WHERE user_key = $1", user_key)
        return ConsentState(**dict(row)) if row else None

    async def apply(self, state: ConsentState) -> bool:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "INSERT INTO consent (user_key, camera_roll, training_opt_out, ledger_seq,"
                " changed_at) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (user_key) DO UPDATE SET camera_roll = EXCLUDED.camera_roll,"
                " training_opt_out = EXCLUDED.training_opt_out,"
                " ledger_seq = EXCLUDED.ledger_seq, changed_at = EXCLUDED.changed_at,"
                " projected_at = clock_timestamp()"
                " WHERE consent.ledger_seq < EXCLUDED.ledger_seq",
                state.user_key, state.camera_roll, state.training_opt_out, state.ledger_seq,
                state.changed_at,
            )
        return status.endswith(" 1")
