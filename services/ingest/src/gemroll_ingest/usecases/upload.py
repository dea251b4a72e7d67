"""Accepting a photo or video: validate, dedupe per user, store the object (and a video's
poster), then record it and its MediaUploaded in one transaction. No orphans: a failure after
the reservation removes the objects and the row (the janitor retries what that leaves).

The reservation (the per-user claim on the bytes) is leased and renewed while the object is
stored: when the request dies (a killed pod, a cut connection), the next upload of the same
bytes takes the claim over once the lease has run out, instead of being told "in progress"."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

from gemroll_common.errors import StoreRefused
from gemroll_common.logging import get_logger
from gemroll_common.outbox import OutboxMessage
from gemroll_contracts import MEDIA_UPLOADED

from .. import metrics
from ..domain import errors
from ..domain.media import (
    ClientMetadata,
    ImageFacts,
    MediaRecord,
    StagedFile,
    media_uploaded,
    new_media,
)
from ..domain.uploads import Upload
from ..ports import DuplicateMedia
from .consent import require_consent
from .deps import Deps

log = get_logger(__name__)


@dataclass(frozen=True)
class Accepted:
    media_id: UUID
    sha256: str
    status: str
    """`accepted` (new) or `duplicate` (the user already had these bytes)."""


@contextlib.contextmanager
def counted_outcome() -> Iterator[None]:
    """Count an upload attempt's refusal as `rejected_<code>`."""
    try:
        yield
    except errors.IngestError as exc:
        metrics.UPLOADS.labels(f"rejected_{exc.code}").inc()
        raise


class Uploads:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def require_consent(self, user_key: str) -> None:
        await require_consent(self._deps.consent, user_key)

    async def accept_direct(
        self, user_key: str, staged: StagedFile, client: ClientMetadata
    ) -> Accepted:
        """A multipart upload already streamed to a local file: validate, dedupe, store."""
        self._deps.limits.check_size(staged)
        facts = await self._deps.inspector.inspect(staged)
        return await self.store(user_key, staged, facts, client, source="direct")

    async def store(
        self, user_key: str, staged: StagedFile, facts: ImageFacts, client: ClientMetadata,
        *, source: str, upload: Upload | None = None,
    ) -> Accepted:
        """Store validated bytes (copied from `upload`'s staging object when given)."""
        existing = await self._deps.media.find_live(user_key, staged.sha256)
        if existing is not None and (earlier := await self._earlier(existing)) is not None:
            return earlier
        record = new_media(media_id=uuid4(), user_key=user_key, staged=staged, facts=facts,
                           client=client, source=source)
        if (earlier := await self._reserve(record)) is not None:
            return earlier
        async with self._leased(record):
            await self._put(record, staged, upload, facts.poster)
        await self._record(record, upload)
        self._deps.outbox_written()
        metrics.UPLOADS.labels("accepted").inc()
        metrics.UPLOAD_BYTES.inc(record.size_bytes)
        log.info("media_accepted", media_id=str(record.media_id), source=source,
                 content_type=record.content_type, size_bytes=record.size_bytes,
                 media_kind=record.media_kind)
        return Accepted(record.media_id, record.sha256, "accepted")

    async def _reserve(self, record: MediaRecord) -> Accepted | None:
        """Claim the (user, sha256) pair before storing; the earlier upload's answer when it
        holds the claim. A takeover races other retries, hence a few tries."""
        for _ in range(3):
            try:
                await self._deps.media.reserve(record, self._deps.limits.reservation_lease_s)
                return None
            except DuplicateMedia as dup:
                if (earlier := await self._earlier(dup.existing)) is not None:
                    return earlier
        raise errors.UploadInProgress("the same photo is being stored right now; retry")

    async def _earlier(self, existing: MediaRecord) -> Accepted | None:
        """The answer for bytes the user uploaded before: a duplicate when accepted; None when
        a crashed request's reservation was just released (store them again)."""
        if existing.state != "storing":
            metrics.UPLOADS.labels("duplicate").inc()
            return Accepted(existing.media_id, existing.sha256, "duplicate")
        if await self._deps.media.abandon_expired(existing.media_id):
            log.info("reservation_taken_over", media_id=str(existing.media_id))
            return None
        raise errors.UploadInProgress("the same photo is being stored right now; retry")

    @contextlib.asynccontextmanager
    async def _leased(self, record: MediaRecord) -> AsyncIterator[None]:
        """Renew the reservation's lease while the block runs. A renewal that fails (the
        database away) is only logged: acceptance checks that the claim still holds."""
        lease_s = self._deps.limits.reservation_lease_s

        async def renew() -> None:
            while True:
                await asyncio.sleep(lease_s / 3)
                try:
                    if not await self._deps.media.renew_lease(record.media_id, lease_s):
                        return
                except Exception as exc:  # noqa: BLE001 - the next renewal may work
                    log.warning("lease_renewal_failed", media_id=str(record.media_id),
                                error_type=type(exc).__name__)

        renewing = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _put(self, record: MediaRecord, staged: StagedFile, upload: Upload | None,
                   poster: bytes | None) -> None:
        blobs = self._deps.blobs
        try:
            if upload is None:
                await blobs.put_file(record.object_key, staged.path, staged.size,
                                     record.content_type, record.sha256)
            else:
                await blobs.copy(upload.staging_key, record.object_key, record.content_type,
                                 record.sha256)
            if record.poster_key is not None and poster is not None:
                await blobs.put_bytes(record.poster_key, poster, "image/jpeg")
        except Exception as exc:
            await self._undo(record)  # a write can succeed with its answer lost
            log.error("object_store_failed", media_id=str(record.media_id),
                      error_type=type(exc).__name__, error=str(exc)[:300])
            if isinstance(exc, StoreRefused | errors.StorageFull):  # as they are: not "retry"
                raise
            raise errors.StorageUnavailable("the photo could not be stored; retry") from exc

    async def _record(self, record: MediaRecord, upload: Upload | None) -> None:
        """Accept the reservation with its MediaUploaded (and complete the upload)."""
        event = media_uploaded(record, self._deps.blobs.bucket)
        message = OutboxMessage(MEDIA_UPLOADED, record.user_key, event, record.media_id)
        try:
            accepted = await self._deps.media.accept(
                record.media_id, [message],
                complete_upload=upload.upload_id if upload else None)
        except errors.ConsentRequired:
            # The projection flipped (opt-out) while this photo was being stored: refuse it.
            await self._undo(record)
            raise
        except Exception as exc:
            log.error("record_failed", media_id=str(record.media_id),
                      error_type=type(exc).__name__, error=str(exc)[:300])
            if await self._committed_anyway(record):
                return
            raise errors.StorageUnavailable("the upload could not be recorded; retry") from exc
        if not accepted:  # erased or swept while it was being stored
            await self._undo(record)
            await self.require_consent(record.user_key)  # an opt-out erased it: say so
            raise errors.StorageUnavailable("the upload was interrupted; retry")

    async def _committed_anyway(self, record: MediaRecord) -> bool:
        """After an acceptance that failed without saying how (the connection died at COMMIT):
        True when it did commit. The object goes only once the reservation is known to be
        gone; when the database cannot say, both stay for the janitor (the lease runs out)."""
        try:
            if await self._deps.media.discard(record.media_id):
                for key in _keys(record):
                    await self._deps.blobs.delete(key)
                return False
            committed = await self._deps.media.get(record.user_key, record.media_id)
        except Exception as exc:  # noqa: BLE001 - the janitor cleans up after the lease
            log.error("undo_failed", media_id=str(record.media_id),
                      error_type=type(exc).__name__)
            return False
        if committed is not None:
            log.info("accepted_despite_error", media_id=str(record.media_id))
        return committed is not None

    async def _undo(self, record: MediaRecord) -> None:
        """Remove the objects and the reservation (the janitor retries failures)."""
        steps = [self._deps.blobs.delete(key) for key in _keys(record)]
        for step in (*steps, self._deps.media.discard(record.media_id)):
            try:
                await step
            except Exception as exc:  # noqa: BLE001
                log.error("undo_failed", media_id=str(record.media_id),
                          error_type=type(exc).__name__)


def _keys(record: MediaRecord) -> list[str]:
    """The objects an upload writes: the media and, for a video, its poster."""
    return [record.object_key, *([record.poster_key] if record.poster_key else [])]
