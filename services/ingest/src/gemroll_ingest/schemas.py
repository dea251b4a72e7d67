"""The HTTP API's bodies (FastAPI/OpenAPI models), made from the use cases' results."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from .domain.media import MediaRecord
from .domain.verdicts import Facets, Verdict
from .usecases.presigned import CreatedUpload
from .usecases.upload import Accepted


class ErrorBody(BaseModel):
    code: str = Field(examples=["consent_required"])
    message: str


class ErrorResponse(BaseModel):
    detail: ErrorBody


class UploadAccepted(BaseModel):
    media_id: UUID
    sha256: str = Field(description="SHA-256 of the stored bytes (hex).")
    status: Literal["accepted", "duplicate"] = Field(
        description="`accepted`: stored now (201). `duplicate`: this user already uploaded these "
        "bytes; the existing id is returned (200) and nothing is stored or announced again.")

    @classmethod
    def of(cls, result: Accepted) -> UploadAccepted:
        return cls(media_id=result.media_id, sha256=result.sha256,
                   status=result.status)  # type: ignore[arg-type]


class PipelineStatus(BaseModel):
    stage: Literal["stored", "announced", "classified"] = Field(
        description="`stored`: accepted, event waiting in the outbox; `announced`: MediaUploaded "
        "published; `classified`: the classifier's verdict arrived.")
    stored_at: datetime | None
    announced_at: datetime | None
    classified_at: datetime | None


class Classification(BaseModel):
    """The classifier's latest verdict."""

    category: Literal["photo", "screenshot", "document", "other"] | str
    is_gem: bool
    gem_score: float
    reasons: list[str] = Field(description="`<signal>:<detail>` codes, e.g. "
                               "`blurry:low_laplacian_variance`.")
    signals: list[str] = Field(description="The reasons' signals, e.g. `blurry`.")
    decided_at: datetime

    @classmethod
    def of(cls, v: Verdict | None) -> Classification | None:
        if v is None:
            return None
        return cls(category=v.category, is_gem=v.is_gem, gem_score=round(v.gem_score, 4),
                   reasons=list(v.reasons), signals=list(v.signals), decided_at=v.decided_at)


class MediaItem(BaseModel):
    media_id: UUID
    sha256: str
    media_kind: Literal["photo", "video"]
    content_type: str
    duration_s: float | None = Field(description="A video's length in seconds; null for photos.")
    motion_clip: bool = Field(default=False, description="A motion photo: its clip is at "
                              "`GET /v1/media/{id}/motion`.")
    size_bytes: int
    width: int
    height: int
    captured_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    orientation: int | None
    coarse_location: str | None = Field(description="Geohash of at most 5 characters.")
    device: str | None
    album: str | None
    created_at: datetime | None
    pipeline: PipelineStatus
    classification: Classification | None = Field(
        description="The classifier's latest verdict; null until it arrives.")

    @classmethod
    def of(cls, r: MediaRecord) -> MediaItem:
        return cls(
            media_id=r.media_id, sha256=r.sha256, content_type=r.content_type,
            media_kind=r.media_kind,  # type: ignore[arg-type]
            duration_s=r.video.duration_s if r.video else None,
            motion_clip=r.motion_offset is not None,
            size_bytes=r.size_bytes, width=r.width, height=r.height, captured_at=r.captured_at,
            camera_make=r.camera_make, camera_model=r.camera_model, orientation=r.orientation,
            coarse_location=r.coarse_location, device=r.device, album=r.album,
            created_at=r.created_at,
            pipeline=PipelineStatus(stage=r.pipeline_stage,  # type: ignore[arg-type]
                                    stored_at=r.created_at, announced_at=r.announced_at,
                                    classified_at=r.classified_at),
            classification=Classification.of(r.verdict),
        )


class MediaPage(BaseModel):
    items: list[MediaItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at "
                                    "the end.")


class MediaFacets(BaseModel):
    total: int
    gems: int
    junk: int
    unclassified: int
    junk_signals: dict[str, int] = Field(description="Junk photos per reason signal.")

    @classmethod
    def of(cls, f: Facets) -> MediaFacets:
        return cls(total=f.total, gems=f.gems, junk=f.junk, unclassified=f.unclassified,
                   junk_signals=f.junk_signals)


class UploadCreated(BaseModel):
    upload_id: UUID
    url: str = Field(description="Presigned URL: PUT the file's bytes here, then call "
                     "`POST /v1/uploads/{upload_id}/complete`.")
    method: Literal["PUT"] = "PUT"
    expires_at: datetime

    @classmethod
    def of(cls, created: CreatedUpload) -> UploadCreated:
        return cls(upload_id=created.upload_id, url=created.url, expires_at=created.expires_at)


MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "The photo (JPEG, PNG, HEIC/HEIF, AVIF, WebP) or video "
                         "(MP4, MOV, M4V, Matroska, WebM; H.264, HEVC, VP9, AV1), judged by its "
                         "bytes."},
                "metadata": {"type": "string", "description": "Optional JSON: "
                             '{"captured_at": "<ISO 8601 with zone>", "device": "...", '
                             '"album": "..."}'},
            },
        }}},
    }
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route (401 on every one)."""
    return {code: {"model": ErrorResponse} for code in (401, *codes)}
