"""Background work besides the gate: object-store erasure and the health gauges."""

from __future__ import annotations

import asyncio

import asyncpg
from gemroll_common.db import ping
from gemroll_common.errors import is_transient
from gemroll_common.logging import get_logger
from gemroll_common.outbox import OUTBOX_PENDING, pending_count

from .. import metrics
from ..ports import ErasureQueue, ObjectEraser
from .postgres import pending_candidates

log = get_logger(__name__)


class ErasureWorker:
    """Deletes the object-store prefixes the gate queued for erased media, until none is left.

    Deleting is idempotent, so a job that fails half-way is simply run again."""

    def __init__(self, queue: ErasureQueue, eraser: ObjectEraser, interval_s: float) -> None:
        self.queue = queue
        self.eraser = eraser
        self.interval_s = interval_s
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - retried on the next round
                if not is_transient(exc):
                    log.error("erasure_round_failed", error_type=type(exc).__name__,
                              error=str(exc)[:300])
            try:
                await asyncio.wait_for(self.wake.wait(), self.interval_s)
            except TimeoutError:
                pass
            self.wake.clear()

    async def run_once(self, limit: int = 50) -> int:
        """Run the queued jobs; returns how many completed."""
        done = 0
        for job in await self.queue.due(limit):
            assert job.job_id is not None
            try:
                deleted = 0
                for prefix in job.prefixes:
                    deleted += await self.eraser.delete_prefix(prefix)
            except Exception as exc:  # noqa: BLE001 - the store is down: keep the job
                metrics.ERASURE_JOBS_FAILED.inc()
                log.warning("erasure_job_failed", job_id=job.job_id, error=str(exc)[:300])
                await self.queue.failed(job.job_id, f"{type(exc).__name__}: {exc}")
                continue
            await self.queue.done(job.job_id)
            log.info("erasure_job_done", job_id=job.job_id, reason=job.reason,
                     prefixes=len(job.prefixes), objects_deleted=deleted)
            done += 1
        return done


async def monitor(pool: asyncpg.Pool, interval_s: float) -> None:
    """Keep `consent_store_up`, `pending_candidates` and the outbox backlog current."""
    while True:
        try:
            up = await asyncio.wait_for(ping(pool), 3)
            metrics.CONSENT_STORE_UP.set(1 if up else 0)
            metrics.PENDING_CANDIDATES.set(await asyncio.wait_for(pending_candidates(pool), 5))
            async with pool.acquire(timeout=2) as conn:
                OUTBOX_PENDING.labels("policy").set(await pending_count(conn))
        except Exception:  # noqa: BLE001 - any failure means "down"
            metrics.CONSENT_STORE_UP.set(0)
        await asyncio.sleep(interval_s)
