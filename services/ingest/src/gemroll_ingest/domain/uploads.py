"""Presigned (two-step) uploads: their states and what completing a closed one answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from . import errors
from .media import ClientMetadata


@dataclass(frozen=True)
class Upload:
    """A presigned (two-step) upload."""

    upload_id: UUID
    user_key: str
    staging_key: str
    state: str
    """`pending`, `completed`, `failed` or `expired`."""
    metadata: ClientMetadata
    expires_at: datetime
    media_id: UUID | None = None
    outcome: str | None = None
    """`accepted`, `duplicate`, or the error code it failed with."""


def past_completion(upload: Upload, grace_s: int, now: datetime) -> bool:
    """The URL expired longer than `grace_s` ago: the upload can no longer be completed."""
    return now > upload.expires_at + timedelta(seconds=grace_s)


def closed_refusal(upload: Upload) -> errors.IngestError:
    """What `complete` on a closed upload (other than a completed one) answers."""
    if upload.state == "expired":
        return errors.UploadExpired("the upload expired; start a new one")
    return errors.UploadClosed(
        f"this upload is closed ({upload.outcome or upload.state}); start a new one")


def fails_upload(error: errors.IngestError) -> bool:
    """A refusal that closes the upload for good; a retryable one (the same bytes being stored
    right now, the store down) leaves it pending."""
    return not isinstance(error, errors.UploadInProgress | errors.StorageUnavailable)
