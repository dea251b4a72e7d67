"""What the use cases need from the outside world, as Protocols (fakes live in the tests).

Outbox rows are the runtime kit's `OutboxMessage`s, written in the transaction of the data
they announce (`accept`, `mark_deleted`); the kit's relay publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from gemroll_common.outbox import OutboxMessage

from .domain.consent import ConsentState
from .domain.media import ImageFacts, MediaRecord, StagedFile
from .domain.paging import Cursor
from .domain.uploads import Upload
from .domain.verdicts import EVERYTHING, Facets, MediaFilter, Verdict


class DuplicateMedia(Exception):
    """The user already has (or is storing) media with these bytes."""

    def __init__(self, existing: MediaRecord) -> None:
        super().__init__(str(existing.media_id))
        self.existing = existing


@dataclass(frozen=True)
class ErasedMedia:
    media_id: UUID
    object_key: str | None
    poster_key: str | None = None
    """A video's poster, erased with it."""

    @property
    def keys(self) -> list[str]:
        """The objects to delete."""
        return [k for k in (self.object_key, self.poster_key) if k]


class MediaRepository(Protocol):
    async def find_live(self, user_key: str, sha256: str) -> MediaRecord | None:
        """Media with these bytes that is being stored or accepted (not deleted or erased)."""

    async def reserve(self, record: MediaRecord, lease_s: float) -> None:
        """Insert the record in state `storing`, leased for `lease_s` seconds; raises
        DuplicateMedia on the same bytes."""

    async def renew_lease(self, media_id: UUID, lease_s: float) -> bool:
        """Extend a reservation's lease; False when it is no longer `storing` (taken over)."""

    async def abandon_expired(self, media_id: UUID | None = None, *, limit: int = 500) -> int:
        """`storing` -> `abandoned` for reservations whose lease ran out (only `media_id`'s when
        given): their bytes may be uploaded again at once; their objects are the janitor's."""

    async def abandoned(self, limit: int) -> list[ErasedMedia]:
        """Released reservations whose object may still exist."""

    async def remove_abandoned(self, media_id: UUID) -> None:
        """Drop an abandoned reservation once its object is gone."""

    async def accept(
        self, media_id: UUID, messages: Sequence[OutboxMessage], *,
        complete_upload: UUID | None = None,
    ) -> bool:
        """One transaction: `storing` -> `accepted`, outbox rows, and (for presigned uploads)
        the upload marked completed. False when the reservation is gone (erased or swept).
        Holds the owner's consent projection row FOR SHARE and raises ConsentRequired when it
        no longer allows uploads (an opt-out projected meanwhile)."""

    async def discard(self, media_id: UUID) -> bool:
        """Remove a reservation that never got accepted; False when it is not `storing`."""

    async def get(self, user_key: str, media_id: UUID) -> MediaRecord | None:
        """An accepted media item of this user (None for others', deleted or erased)."""

    async def list(self, user_key: str, after: Cursor | None, limit: int,
                   where: MediaFilter = EVERYTHING) -> list[MediaRecord]:
        """Accepted media matching `where`, newest first, strictly after the cursor."""

    async def mark_deleted(self, user_key: str, media_id: UUID, message: OutboxMessage) -> str:
        """`accepted` -> `deleted` with the outbox row, one transaction. Returns the state the
        item was in: `accepted` (now deleted), `deleted` (already), or `missing`."""

    async def erasable(self, user_key: str, media_ids: Sequence[UUID]) -> list[ErasedMedia]:
        """The user's media among these ids that is not erased yet, with object keys."""

    async def inventory(
        self, user_key: str, *, created_at_or_before: datetime | None = None
    ) -> list[ErasedMedia]:
        """Every media item of the user not erased yet (storing, accepted, deleted), created at
        or before the given time when one is given."""

    async def tombstone(
        self, user_key: str, media_ids: Sequence[UUID], *, account: bool = False
    ) -> int:
        """Keep only id, owner and erasure time; drop content, outbox rows and upload rows.
        Pending user actions of these ids still leave, unless `account` (all rows go)."""

    async def record_verdict(self, media_id: UUID, verdict: Verdict) -> bool:
        """Keep it unless a newer verdict is recorded; True when it changed the record."""
        ...

    async def facets(self, user_key: str) -> Facets: ...


class UploadRepository(Protocol):
    async def create(self, upload: Upload) -> None: ...

    async def get(self, user_key: str, upload_id: UUID) -> Upload | None: ...

    async def close(
        self, upload_id: UUID, *, state: str, outcome: str, media_id: UUID | None = None
    ) -> bool:
        """pending -> `state` (completed, failed, expired). False when no longer pending."""

    async def expired(self, grace_s: int, limit: int) -> list[Upload]: ...

    async def staging_deleted(self, upload_id: UUID) -> None:
        """The staging object is gone; once the URL has expired, no PUT can bring it back."""

    async def leftover_staging(self, limit: int) -> list[Upload]:
        """Closed uploads whose staging object may still exist: its deletion failed, or the
        presigned URL was still valid afterwards (a late PUT)."""

    async def delete_for_user(
        self, user_key: str, *, created_at_or_before: datetime | None = None
    ) -> list[str]:
        """Drop the user's upload rows (created at or before the time, when given); returns
        their staging keys (the caller deletes those objects)."""


class ConsentRepository(Protocol):
    async def get(self, user_key: str) -> ConsentState | None: ...

    async def apply(self, state: ConsentState) -> bool:
        """Store the state if it supersedes the stored one (the contract's rule: the higher
        ledger_seq wins); True when stored."""


class BlobStore(Protocol):
    """The media bucket. A store that is down or busy raises the domain's StorageUnavailable
    (transient: 503, consumers retry); one that refuses for good (access denied, no such
    bucket) the kit's StoreRefused."""

    bucket: str

    async def put_file(
        self, key: str, path: str, size: int, content_type: str, sha256: str
    ) -> None: ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """A small object (a video's poster)."""

    async def size(self, key: str) -> int | None:
        """The object's size, or None when it does not exist."""

    def download(self, key: str, max_bytes: int) -> AbstractAsyncContextManager[StagedFile]:
        """Stream the object into a temporary file (hashing as it goes), removed on exit;
        TooLarge past `max_bytes`."""

    async def copy(self, source: str, target: str, content_type: str, sha256: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object succeeds."""

    async def delete_prefix(self, prefix: str) -> int: ...

    async def presigned_put(self, key: str, ttl_s: int) -> str: ...


class ImageInspector(Protocol):
    async def inspect(self, staged: StagedFile) -> ImageFacts:
        """Sniff, verify and read EXIF (a video: probe it, decode its poster frame); raises
        the domain's validation errors."""

    async def preview(self, path: str, long_side: int) -> bytes:
        """A metadata-free, upright JPEG of the picture at `path` (a photo or a video's
        poster) whose longer side is at most `long_side`."""

    async def motion_clip(self, path: str, offset: int) -> bytes:
        """The clip of the motion photo at `path` (it starts at `offset`): its video stream as
        MP4, without tags or audio; `InvalidVideo` when it does not read."""
