"""What every use case is given: the ports, the limits, and a way to wake the outbox relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.media import StagedFile
from ..domain.video import check_size
from ..ports import (
    BlobStore,
    ConsentRepository,
    ImageInspector,
    MediaRepository,
    UploadRepository,
)


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    presign_ttl_s: int
    complete_grace_s: int
    reservation_lease_s: float = 30.0
    max_video_bytes: int = 2 * 1024**3

    def check_size(self, staged: StagedFile) -> None:
        """TooLarge (413) when the file is over its kind's (photo or video) limit."""
        check_size(staged.head, staged.size, photo_bytes=self.max_upload_bytes,
                   video_bytes=self.max_video_bytes)

    @property
    def max_any_bytes(self) -> int:
        """The larger of the limits: what may be received before the kind is known."""
        return max(self.max_upload_bytes, self.max_video_bytes)


@dataclass
class Deps:
    media: MediaRepository
    uploads: UploadRepository
    consent: ConsentRepository
    blobs: BlobStore
    inspector: ImageInspector
    limits: Limits
    outbox_written: Callable[[], None] = field(default=lambda: None)
    """Called after a commit that added outbox rows (wakes the relay)."""
