"""Periodic clean-up, so that no failure leaves an orphan behind:

* reservations of uploads that crashed mid-way (their lease ran out): released, then the
  object and the row removed,
* presigned uploads never completed (staging object removed, upload expired),
* staging objects whose deletion failed earlier, or that a late PUT recreated.

(Outbox rows need none: the relay deletes each row once Kafka has it.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gemroll_common.logging import get_logger

from .deps import Deps

log = get_logger(__name__)
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    reservations: int = 0
    expired_uploads: int = 0
    staging_objects: int = 0


class Janitor:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def sweep(self) -> SweepReport:
        media, uploads, blobs = self._deps.media, self._deps.uploads, self._deps.blobs
        await media.abandon_expired(limit=BATCH)
        reservations = 0
        for released in await media.abandoned(BATCH):
            for key in released.keys:
                await blobs.delete(key)
            await media.remove_abandoned(released.media_id)
            reservations += 1
        expired = 0
        for upload in await uploads.expired(self._deps.limits.complete_grace_s, BATCH):
            if await uploads.close(upload.upload_id, state="expired", outcome="expired"):
                expired += 1
        staging = 0
        for upload in await uploads.leftover_staging(BATCH):
            await blobs.delete(upload.staging_key)
            await uploads.staging_deleted(upload.upload_id)
            staging += 1
        report = SweepReport(reservations, expired, staging)
        if report != SweepReport():
            log.info("janitor_swept", **report.__dict__)
        return report

    async def run(self, every_s: float) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - try again next round
                log.warning("janitor_failed", error_type=type(exc).__name__, error=str(exc)[:300])
            await asyncio.sleep(every_s)
