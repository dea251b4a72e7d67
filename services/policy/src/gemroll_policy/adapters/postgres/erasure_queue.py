"""Object-store deletions still to do, queued by the gate with the decisions that need them."""

from __future__ import annotations

import asyncpg

from ...ports import ErasureJob


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
