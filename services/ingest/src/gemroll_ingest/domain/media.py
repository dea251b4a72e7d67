"""Media: what the ingest records about a photo or video, and the events it announces."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from gemroll_contracts import (
    ActionKind,
    MediaUploaded,
    MediaUploadedData,
    UserAction,
    UserActionData,
    VideoFacts,
    utcnow,
)
from gemroll_contracts.base import ShortText, UtcDatetime
from pydantic import BaseModel, ConfigDict, field_validator

from .exif import CaptureTime, GpsFix
from .geohash import coarse
from .verdicts import Verdict
from .video import VideoInfo, media_kind

PRODUCER = "ingest"


class ClientMetadata(BaseModel):
    """Optional metadata a client sends with an upload (the `metadata` JSON part)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    captured_at: UtcDatetime | None = None
    device: ShortText | None = None
    album: ShortText | None = None

    @field_validator("device", "album")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        """Text is stored as is: no NUL characters and no unpaired surrogates (valid JSON
        escapes that neither UTF-8 nor PostgreSQL can hold)."""
        if value is not None:
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must be valid Unicode text (no unpaired surrogates)") from None
        return value


@dataclass(frozen=True)
class StagedFile:
    """An upload written to a local temporary file, hashed while it was written."""

    path: str
    size: int
    sha256: str
    head: bytes
    """The first bytes, for type sniffing."""


@dataclass(frozen=True)
class ImageFacts:
    """What validating the image (or video) found out."""

    content_type: str
    width: int
    height: int
    capture: CaptureTime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    orientation: int | None = None
    gps: GpsFix | None = None
    video: VideoInfo | None = None
    """Set for a video: what its container says."""
    poster: bytes | None = None
    """A video's poster: a metadata-free JPEG of one decoded frame."""
    motion_offset: int | None = None
    """A motion photo's clip: where it starts in the file (after the JPEG's end)."""


@dataclass(frozen=True)
class MediaRecord:
    media_id: UUID
    user_key: str
    object_key: str
    content_type: str
    size_bytes: int
    sha256: str
    width: int
    height: int
    captured_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    orientation: int | None
    coarse_location: str | None
    device: str | None
    album: str | None
    gps: GpsFix | None
    """Exact position: private column only."""
    source: str
    """`direct` (multipart) or `presigned`."""
    state: str = "storing"
    created_at: datetime | None = None
    announced_at: datetime | None = None
    classified_at: datetime | None = None
    verdict: Verdict | None = None
    """The classifier's latest verdict (None until it arrives)."""
    video: VideoInfo | None = None
    poster_key: str | None = None
    motion_offset: int | None = None
    """A motion photo: the offset of its clip inside the original."""
    """A video's poster JPEG, stored beside it (erased with it)."""

    @property
    def media_kind(self) -> str:
        return media_kind(self.content_type)

    def with_state(self, state: str) -> MediaRecord:
        return replace(self, state=state)

    @property
    def pipeline_stage(self) -> str:
        """`stored` (its event waits in the outbox), `announced` (MediaUploaded published) or
        `classified` (the classifier's verdict arrived)."""
        if self.classified_at:
            return "classified"
        return "announced" if self.announced_at else "stored"


def object_key(user_key: str, media_id: UUID) -> str:
    """Where a media object lives; made by the service, never from client-supplied names."""
    return f"users/{user_key}/media/{media_id}"


def poster_key(user_key: str, media_id: UUID) -> str:
    """Where a video's poster frame (a JPEG) lives."""
    return f"users/{user_key}/posters/{media_id}.jpg"


def staging_key(user_key: str, upload_id: UUID) -> str:
    """Where a presigned upload lands before it is validated."""
    return f"users/{user_key}/uploads/{upload_id}"


def captured_at(client: ClientMetadata, facts: ImageFacts) -> datetime | None:
    """The client's explicit time wins (it knows the device's zone); else EXIF, where a local
    time without an offset is taken as UTC."""
    if client.captured_at is not None:
        return client.captured_at
    return facts.capture.at if facts.capture else None


def new_media(
    *, media_id: UUID, user_key: str, staged: StagedFile, facts: ImageFacts,
    client: ClientMetadata, source: str,
) -> MediaRecord:
    return MediaRecord(
        media_id=media_id,
        user_key=user_key,
        object_key=object_key(user_key, media_id),
        content_type=facts.content_type,
        size_bytes=staged.size,
        sha256=staged.sha256,
        width=facts.width,
        height=facts.height,
        captured_at=captured_at(client, facts),
        camera_make=facts.camera_make,
        camera_model=facts.camera_model,
        orientation=facts.orientation,
        coarse_location=coarse(facts.gps.latitude, facts.gps.longitude) if facts.gps else None,
        device=client.device,
        album=client.album,
        gps=facts.gps,
        source=source,
        video=facts.video,
        poster_key=poster_key(user_key, media_id) if facts.video else None,
        motion_offset=facts.motion_offset,
    )


def video_facts(record: MediaRecord) -> VideoFacts | None:
    v = record.video
    if v is None:
        return None
    return VideoFacts(duration_s=v.duration_s, fps=v.fps, video_codec=v.video_codec,
                      has_audio=v.has_audio, rotation=v.rotation, poster_key=record.poster_key)


def media_uploaded(record: MediaRecord, bucket: str) -> MediaUploaded:
    """The announcement of an accepted photo or video: coarse location only, never exact
    GPS."""
    return MediaUploaded(
        producer=PRODUCER,
        data=MediaUploadedData(
            media_id=record.media_id,
            user_key=record.user_key,
            bucket=bucket,
            object_key=record.object_key,
            content_type=record.content_type,  # type: ignore[arg-type]
            size_bytes=record.size_bytes,
            sha256=record.sha256,
            width=record.width,
            height=record.height,
            captured_at=record.captured_at,
            camera_make=record.camera_make,
            camera_model=record.camera_model,
            orientation=record.orientation,
            coarse_location=record.coarse_location,
            device=record.device,
            album=record.album,
            media_kind=record.media_kind,
            video=video_facts(record),
        ),
    )


def media_deleted(user_key: str, media_id: UUID) -> UserAction:
    return UserAction(
        producer=PRODUCER,
        data=UserActionData(
            user_key=user_key, media_id=media_id, action=ActionKind.media_deleted,
            acted_at=utcnow(),
        ),
    )
