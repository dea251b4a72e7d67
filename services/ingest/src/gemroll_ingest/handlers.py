"""Use cases: uploads in, media records and outbox events out; consent and erasure events in.

Plain async methods over the ports; no HTTP, Kafka, SQL or S3 specifics here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from gemroll_common.logging import get_logger
from gemroll_contracts import (
    MEDIA_UPLOADED,
    USER_ACTIONS,
    ConsentChanged,
    ErasureReason,
    MediaClassified,
    MediaErased,
    utcnow,
)

from . import metrics
from .domain import errors
from .domain.consent import ConsentState, allows_uploads
from .domain.media import (
    ClientMetadata,
    ImageFacts,
    MediaRecord,
    StagedFile,
    media_deleted,
    media_uploaded,
    new_media,
    staging_key,
)
from .domain.paging import Cursor
from .ports import (
    BlobStore,
    ConsentRepository,
    DuplicateMedia,
    ImageInspector,
    MediaRepository,
    OutboxMessage,
    Upload,
    UploadRepository,
)

log = get_logger(__name__)


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    presign_ttl_s: int
    complete_grace_s: int


@dataclass(frozen=True)
class Accepted:
    media_id: UUID
    sha256: str
    status: str
    """`accepted` (new) or `duplicate` (the user already had these bytes)."""


@dataclass(frozen=True)
class CreatedUpload:
    upload_id: UUID
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Page:
    items: list[MediaRecord]
    next_cursor: str | None


@contextlib.contextmanager
def counted_outcome() -> Iterator[None]:
    """Count an upload attempt's refusal as `rejected_<code>`."""
    try:
        yield
    except errors.IngestError as exc:
        metrics.UPLOADS.labels(f"rejected_{exc.code}").inc()
        raise


class Ingest:
    """The ingest use cases, wired to their ports."""

    def __init__(
        self, *, media: MediaRepository, uploads: UploadRepository, consent: ConsentRepository,
        blobs: BlobStore, inspector: ImageInspector, limits: Limits,
        outbox_written: Callable[[], None] = lambda: None,
    ) -> None:
        self.outbox_written = outbox_written
        """Called after a commit that added outbox rows (wakes the relay)."""
        self.media = media
        self.uploads = uploads
        self.consent = consent
        self.blobs = blobs
        self.inspector = inspector
        self.limits = limits

    # -- uploads -------------------------------------------------------------------------------
    async def require_consent(self, user_key: str) -> None:
        if not allows_uploads(await self.consent.get(user_key)):
            raise errors.ConsentRequired(
                "camera-roll uploads need the user's opt-in (consent camera_roll=true)"
            )

    async def accept_direct(
        self, user_key: str, staged: StagedFile, client: ClientMetadata
    ) -> Accepted:
        """A multipart upload already streamed to a local file: validate, dedupe, store."""
        facts = await self.inspector.inspect(staged)
        return await self._store(user_key, staged, facts, client, source="direct")

    async def create_upload(self, user_key: str, client: ClientMetadata) -> CreatedUpload:
        await self.require_consent(user_key)
        upload_id = uuid4()
        key = staging_key(user_key, upload_id)
        url = await self.blobs.presigned_put(key, self.limits.presign_ttl_s)
        expires_at = utcnow() + timedelta(seconds=self.limits.presign_ttl_s)
        await self.uploads.create(Upload(
            upload_id=upload_id, user_key=user_key, staging_key=key, state="pending",
            metadata=client, expires_at=expires_at,
        ))
        return CreatedUpload(upload_id=upload_id, url=url, expires_at=expires_at)

    async def complete_upload(self, user_key: str, upload_id: UUID) -> Accepted:
        """Validate the object PUT to the presigned URL and accept it like a direct upload."""
        upload = await self.uploads.get(user_key, upload_id)
        if upload is None:
            raise errors.UploadNotFound(f"no upload {upload_id} for this user")
        if upload.state != "pending":
            return await self._closed_upload(user_key, upload)
        if utcnow() > upload.expires_at + timedelta(seconds=self.limits.complete_grace_s):
            await self._close_upload(upload, state="expired", outcome="expired")
            raise errors.UploadExpired("the upload expired; start a new one")
        size = await self.blobs.size(upload.staging_key)
        if size is None:
            raise errors.UploadIncomplete("PUT the file to the upload URL before completing it")
        try:
            await self.require_consent(user_key)
            if size > self.limits.max_upload_bytes:
                raise errors.TooLarge(
                    f"the file is larger than the limit of {self.limits.max_upload_bytes} bytes")
            async with self.blobs.download(upload.staging_key,
                                           self.limits.max_upload_bytes) as staged:
                facts = await self.inspector.inspect(staged)
                result = await self._store(user_key, staged, facts, upload.metadata,
                                           source="presigned", upload=upload)
        except errors.IngestError as exc:
            if not isinstance(exc, errors.UploadInProgress | errors.StorageUnavailable):
                await self._close_upload(upload, state="failed", outcome=exc.code)
            raise
        if result.status == "duplicate":
            await self._close_upload(upload, state="completed", outcome="duplicate",
                                      media_id=result.media_id)
        else:
            await self._delete_staging(upload)
        return result

    async def _closed_upload(self, user_key: str, upload: Upload) -> Accepted:
        """`complete` again on a closed upload answers what the first call answered."""
        if upload.state == "completed" and upload.media_id is not None:
            record = await self.media.get(user_key, upload.media_id)
            if record is not None:
                return Accepted(record.media_id, record.sha256, upload.outcome or "accepted")
        if upload.state == "expired":
            raise errors.UploadExpired("the upload expired; start a new one")
        raise errors.UploadClosed(
            f"this upload is closed ({upload.outcome or upload.state}); start a new one")

    async def _close_upload(
        self, upload: Upload, *, state: str, outcome: str, media_id: UUID | None = None
    ) -> None:
        await self.uploads.close(upload.upload_id, state=state, outcome=outcome,
                                 media_id=media_id)
        await self._delete_staging(upload)

    async def _delete_staging(self, upload: Upload) -> None:
        """Best effort; the janitor retries what is left."""
        try:
            await self.blobs.delete(upload.staging_key)
            await self.uploads.staging_deleted(upload.upload_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("staging_delete_failed", upload_id=str(upload.upload_id),
                        error_type=type(exc).__name__)

    async def _store(
        self, user_key: str, staged: StagedFile, facts: ImageFacts, client: ClientMetadata,
        *, source: str, upload: Upload | None = None,
    ) -> Accepted:
        existing = await self.media.find_live(user_key, staged.sha256)
        if existing is not None:
            return self._duplicate(existing)
        record = new_media(media_id=uuid4(), user_key=user_key, staged=staged, facts=facts,
                           client=client, source=source)
        try:
            await self.media.reserve(record)  # the unique (user, sha256) claim, before storing
        except DuplicateMedia as dup:
            return self._duplicate(dup.existing)
        try:
            if upload is None:
                await self.blobs.put_file(record.object_key, staged.path, staged.size,
                                          record.content_type, record.sha256)
            else:
                await self.blobs.copy(upload.staging_key, record.object_key,
                                      record.content_type, record.sha256)
        except Exception as exc:
            await self.media.discard(record.media_id)
            log.error("object_store_failed", media_id=str(record.media_id),
                      error_type=type(exc).__name__, error=str(exc)[:300])
            raise errors.StorageUnavailable("the photo could not be stored; retry") from exc
        event = media_uploaded(record, self.blobs.bucket)
        message = OutboxMessage(MEDIA_UPLOADED, user_key, event, record.media_id)
        try:
            accepted = await self.media.accept(
                record.media_id, [message],
                complete_upload=upload.upload_id if upload else None)
        except errors.ConsentRequired:
            # The projection flipped (opt-out) while this photo was being stored: refuse it.
            await self._undo(record)
            raise
        except Exception as exc:
            await self._undo(record)
            log.error("record_failed", media_id=str(record.media_id),
                      error_type=type(exc).__name__, error=str(exc)[:300])
            raise errors.StorageUnavailable("the upload could not be recorded; retry") from exc
        if not accepted:  # erased or swept while it was being stored
            await self._undo(record)
            await self.require_consent(user_key)  # an opt-out erased it: say so
            raise errors.StorageUnavailable("the upload was interrupted; retry")
        self.outbox_written()
        metrics.UPLOADS.labels("accepted").inc()
        metrics.UPLOAD_BYTES.inc(record.size_bytes)
        log.info("media_accepted", media_id=str(record.media_id), source=source,
                 content_type=record.content_type, size_bytes=record.size_bytes)
        return Accepted(record.media_id, record.sha256, "accepted")

    def _duplicate(self, existing: MediaRecord) -> Accepted:
        if existing.state == "storing":
            raise errors.UploadInProgress("the same photo is being stored right now; retry")
        metrics.UPLOADS.labels("duplicate").inc()
        return Accepted(existing.media_id, existing.sha256, "duplicate")

    async def _undo(self, record: MediaRecord) -> None:
        """No orphans: remove the object and the reservation (the janitor retries failures)."""
        for step in (self.blobs.delete(record.object_key), self.media.discard(record.media_id)):
            try:
                await step
            except Exception as exc:  # noqa: BLE001
                log.error("undo_failed", media_id=str(record.media_id),
                          error_type=type(exc).__name__)

    # -- reading and deleting ------------------------------------------------------------------
    async def get_media(self, user_key: str, media_id: UUID) -> MediaRecord:
        record = await self.media.get(user_key, media_id)
        if record is None:
            raise errors.MediaNotFound(f"no media {media_id}")
        return record

    async def list_media(self, user_key: str, cursor: str | None, limit: int) -> Page:
        after = Cursor.decode(cursor) if cursor else None
        rows = await self.media.list(user_key, after, limit + 1)
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            assert last.created_at is not None
            next_cursor = Cursor(last.created_at, last.media_id).encode()
        return Page(items=items, next_cursor=next_cursor)

    async def delete_media(self, user_key: str, media_id: UUID) -> None:
        """Marks the media deleted and announces it (UserAction media_deleted); idempotent.
        Erasing the bytes is the policy service's decision (MediaErased)."""
        message = OutboxMessage(USER_ACTIONS, user_key, media_deleted(user_key, media_id),
                                media_id)
        state = await self.media.mark_deleted(user_key, media_id, message)
        if state == "missing":
            raise errors.MediaNotFound(f"no media {media_id}")
        if state == "accepted":
            self.outbox_written()
            log.info("media_deleted", media_id=str(media_id))

    # -- consumed events -----------------------------------------------------------------------
    async def project_consent(self, event: ConsentChanged) -> bool:
        d = event.data
        return await self.consent.apply(ConsentState(
            user_key=d.user_key, camera_roll=d.camera_roll, training_opt_out=d.training_opt_out,
            ledger_seq=d.ledger_seq, changed_at=d.changed_at,
        ))

    async def consent_changed(self, event: ConsentChanged) -> bool:
        """Project the consent; an opt-out with erase_data erases the user's whole inventory.

        Projecting first closes the door: the projection update waits for every upload whose
        acceptance holds the row FOR SHARE, and later acceptances see the opt-out and are
        refused. So everything accepted before the flip is in the inventory erased next.
        Idempotent: a redelivery projects nothing and erases what is left (nothing).
        """
        stored = await self.project_consent(event)
        d = event.data
        if d.erase_data and not d.camera_roll:
            current = await self.consent.get(d.user_key)
            # A newer ledger position is already projected (say, an opt-in after this request):
            # only what existed at the request goes; photos uploaded since then stay.
            newer = current is not None and current.ledger_seq > d.ledger_seq
            await self.erase_account(d.user_key, up_to=d.changed_at if newer else None,
                                     trigger="consent")
        return stored

    async def erase_account(
        self, user_key: str, *, up_to: datetime | None = None, trigger: str = "consent",
    ) -> int:
        """Erase every media item of the user (created at or before `up_to` when given): the
        objects, the rows' content (exact GPS, hashes), their outbox rows and the uploads.
        Only tombstones remain. Idempotent; failures propagate so the caller retries."""
        targets = await self.media.inventory(user_key, created_at_or_before=up_to)
        if up_to is None:
            # Everything under the user's media and staging prefixes, listed or not.
            await self.blobs.delete_prefix(f"users/{user_key}/media/")
            await self.blobs.delete_prefix(f"users/{user_key}/uploads/")
        else:
            for target in targets:
                if target.object_key:
                    await self.blobs.delete(target.object_key)
        erased = await self.media.tombstone(user_key, [t.media_id for t in targets],
                                            account=True)
        staging = await self.uploads.delete_for_user(user_key, created_at_or_before=up_to)
        if up_to is not None:  # else the prefix is already gone
            for key in staging:
                await self.blobs.delete(key)
        log.info("account_erased", count=erased, trigger=trigger, partial=up_to is not None)
        return erased

    async def erase(self, event: MediaErased) -> int:
        """Delete the objects, then keep only a tombstone of each record. Idempotent.

        Exactly the listed ids; an account erasure also erases the rest of the user's
        inventory (media the policy service never heard of: unclassified, dead-lettered)."""
        d = event.data
        targets = await self.media.erasable(d.user_key, d.media_ids)
        for target in targets:
            if target.object_key:
                await self.blobs.delete(target.object_key)
        account = d.reason is ErasureReason.account_erasure
        erased = await self.media.tombstone(d.user_key, [t.media_id for t in targets],
                                            account=account)
        if account:
            current = await self.consent.get(d.user_key)
            up_to = d.erased_at if allows_uploads(current) else None
            erased += await self.erase_account(d.user_key, up_to=up_to, trigger="media_erased")
        log.info("media_erased", count=erased, reason=d.reason.value)
        return erased

    async def record_classified(self, event: MediaClassified) -> bool:
        return await self.media.mark_classified(event.data.media_id, event.occurred_at)
