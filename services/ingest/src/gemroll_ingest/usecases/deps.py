"""What every use case is given: the ports, the limits, and a way to wake the outbox relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
