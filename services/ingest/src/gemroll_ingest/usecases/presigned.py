"""Presigned (two-step) uploads: a URL to PUT the file to, then `complete`, which validates
the staged object and accepts it like a direct upload. Completing again answers what the
first call answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from gemroll_common.logging import get_logger
from gemroll_contracts import utcnow

from ..domain import errors
from ..domain.media import ClientMetadata, staging_key
from ..domain.uploads import Upload, closed_refusal, fails_upload, past_completion
from .deps import Deps
from .upload import Accepted, Uploads

log = get_logger(__name__)


@dataclass(frozen=True)
class CreatedUpload:
    upload_id: UUID
    url: str
    expires_at: datetime


class PresignedUploads:
    def __init__(self, deps: Deps, uploads: Uploads) -> None:
        self._deps = deps
        self._accept = uploads

    async def create(self, user_key: str, client: ClientMetadata) -> CreatedUpload:
        await self._accept.require_consent(user_key)
        ttl_s = self._deps.limits.presign_ttl_s
        upload_id = uuid4()
        key = staging_key(user_key, upload_id)
        url = await self._deps.blobs.presigned_put(key, ttl_s)
        expires_at = utcnow() + timedelta(seconds=ttl_s)
        await self._deps.uploads.create(Upload(
            upload_id=upload_id, user_key=user_key, staging_key=key, state="pending",
            metadata=client, expires_at=expires_at))
        return CreatedUpload(upload_id=upload_id, url=url, expires_at=expires_at)

    async def complete(self, user_key: str, upload_id: UUID) -> Accepted:
        """Validate the object PUT to the presigned URL and accept it like a direct upload."""
        upload = await self._deps.uploads.get(user_key, upload_id)
        if upload is None:
            raise errors.UploadNotFound(f"no upload {upload_id} for this user")
        if upload.state != "pending":
            return await self._closed(user_key, upload)
        if past_completion(upload, self._deps.limits.complete_grace_s, utcnow()):
            await self._close(upload, state="expired", outcome="expired")
            raise errors.UploadExpired("the upload expired; start a new one")
        size = await self._deps.blobs.size(upload.staging_key)
        if size is None:
            raise errors.UploadIncomplete("PUT the file to the upload URL before completing it")
        try:
            result = await self._accept_staged(user_key, upload, size)
        except errors.IngestError as exc:
            if fails_upload(exc):
                await self._close(upload, state="failed", outcome=exc.code)
            raise
        if result.status == "duplicate":
            await self._close(upload, state="completed", outcome="duplicate",
                              media_id=result.media_id)
        else:
            await self._delete_staging(upload)
        return result

    async def _accept_staged(self, user_key: str, upload: Upload, size: int) -> Accepted:
        await self._accept.require_consent(user_key)
        limits = self._deps.limits
        if size > limits.max_any_bytes:
            raise errors.TooLarge(f"the file is larger than the limit of {limits.max_any_bytes}"
                                  " bytes")
        async with self._deps.blobs.download(upload.staging_key, limits.max_any_bytes) as staged:
            limits.check_size(staged)  # the photo's or the video's limit, now the kind is known
            facts = await self._deps.inspector.inspect(staged)
            return await self._accept.store(user_key, staged, facts, upload.metadata,
                                            source="presigned", upload=upload)

    async def _closed(self, user_key: str, upload: Upload) -> Accepted:
        if upload.state == "completed" and upload.media_id is not None:
            record = await self._deps.media.get(user_key, upload.media_id)
            if record is not None:
                return Accepted(record.media_id, record.sha256, upload.outcome or "accepted")
        raise closed_refusal(upload)

    async def _close(self, upload: Upload, *, state: str, outcome: str,
                     media_id: UUID | None = None) -> None:
        await self._deps.uploads.close(upload.upload_id, state=state, outcome=outcome,
                                       media_id=media_id)
        await self._delete_staging(upload)

    async def _delete_staging(self, upload: Upload) -> None:
        """Best effort; the janitor retries what is left."""
        try:
            await self._deps.blobs.delete(upload.staging_key)
            await self._deps.uploads.staging_deleted(upload.upload_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("staging_delete_failed", upload_id=str(upload.upload_id),
                        error_type=type(exc).__name__)
