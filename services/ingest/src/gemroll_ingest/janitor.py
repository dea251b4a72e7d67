"""Periodic clean-up, so that no failure leaves an orphan behind:

* reservations of uploads that crashed mid-way (object and row removed),
* presigned uploads never completed (staging object removed, upload expired),
* staging objects whose deletion failed earlier, or that a late PUT recreated,
* published outbox rows past their retention, or of erased media.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gemroll_common.logging import get_logger

from .ports import BlobStore, MediaRepository, OutboxStore, UploadRepository

log = get_logger(__name__)


@dataclass(frozen=True)
class SweepReport:
    reservations: int = 0
    expired_uploads: int = 0
    staging_objects: int = 0
    outbox_rows: int = 0


class Janitor:
    def __init__(
        self, *, media: MediaRepository, uploads: UploadRepository, outbox: OutboxStore,
        blobs: BlobStore, stale_storing_s: int, complete_grace_s: int, outbox_retention_s: int,
    ) -> None:
        self._media = media
        self._uploads = uploads
        self._outbox = outbox
        self._blobs = blobs
        self._stale_storing_s = stale_storing_s
        self._complete_grace_s = complete_grace_s
        self._outbox_retention_s = outbox_retention_s

    async def sweep(self) -> SweepReport:
        reservations = 0
        for record in await self._media.stale_reservations(self._stale_storing_s):
            await self._blobs.delete(record.object_key)
            await self._media.discard(record.media_id)
            reservations += 1
        expired = 0
        for upload in await self._uploads.expired(self._complete_grace_s, 500):
            if await self._uploads.close(upload.upload_id, state="expired", outcome="expired"):
                expired += 1
        staging = 0
        for upload in await self._uploads.leftover_staging(500):
            await self._blobs.delete(upload.staging_key)
            await self._uploads.staging_deleted(upload.upload_id)
            staging += 1
        purged = await self._outbox.purge_published(self._outbox_retention_s)
        report = SweepReport(reservations, expired, staging, purged)
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
