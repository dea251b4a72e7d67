"""Media events: a photo or video arrived (ingest) and what the classifier found in it."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from .base import (
    Event,
    Geohash,
    ObjectKey,
    Sha256Hex,
    ShortText,
    StrictModel,
    UserKey,
    UtcDatetime,
    reading,
)

PHOTO_TYPES: Final = ("image/jpeg", "image/png", "image/heic", "image/heif", "image/webp",
                      "image/avif")
VIDEO_TYPES: Final = ("video/mp4", "video/quicktime", "video/x-m4v", "video/x-matroska",
                      "video/webm")
CONTENT_TYPES: Final = PHOTO_TYPES + VIDEO_TYPES
"""What this version writes. Readers accept any `image/...` or `video/...` type (a later
version may add one, as 1.4.0 added AVIF and 1.5.0 videos) and treat one they do not know as
undecodable, never as a bad record."""

MEDIA_KINDS: Final = ("photo", "video")
"""What this version writes as `media_kind`. Readers take any short word (a later version may
add one) and leave a kind they do not know alone; a record without it is a photo."""


def _written_only(what: str, written: tuple[str, ...]
                  ) -> Callable[[str, ValidationInfo], str]:
    """A reader takes any well-formed value; a writer only those this version knows."""
    def check(value: str, info: ValidationInfo) -> str:
        if value not in written and not reading(info):
            raise ValueError(f"{what} {value!r} is not one of {', '.join(written)}")
        return value

    return check


ContentType = Annotated[
    str,
    StringConstraints(pattern=r"^(image|video)/[a-z0-9][a-z0-9.+-]{0,62}$"),
    AfterValidator(_written_only("content type", CONTENT_TYPES)),
    Field(description="The media type judged from the bytes; written: one of "
          + ", ".join(CONTENT_TYPES) + ".", examples=list(CONTENT_TYPES)),
]


MediaKind = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z_]{0,23}$"),
    AfterValidator(_written_only("media kind", MEDIA_KINDS)),
    Field(description="What the media is; written: " + " | ".join(MEDIA_KINDS)
          + ". Absent (older writers): photo.", examples=list(MEDIA_KINDS)),
]


class VideoFacts(StrictModel):
    """What the container says about a video (ingest)."""

    duration_s: float = Field(gt=0, le=86_400)
    fps: float | None = Field(default=None, gt=0, le=1_000)
    video_codec: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    has_audio: bool
    rotation: int = Field(default=0, description="Degrees clockwise to display upright.")
    poster_key: ObjectKey | None = Field(
        default=None, description="A JPEG frame the ingest stored beside the video.")



class MediaUploadedData(StrictModel):
    media_id: UUID
    user_key: UserKey
    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    object_key: ObjectKey
    content_type: ContentType
    size_bytes: int = Field(ge=1, le=2**40)
    sha256: Sha256Hex
    width: int = Field(ge=1, le=1_000_000)
    height: int = Field(ge=1, le=1_000_000)
    captured_at: UtcDatetime | None = Field(default=None, description="From EXIF or the client.")
    camera_make: ShortText | None = None
    camera_model: ShortText | None = None
    orientation: int | None = Field(default=None, ge=1, le=8, description="EXIF orientation.")
    coarse_location: Geohash | None = None
    device: ShortText | None = None
    album: ShortText | None = None
    media_kind: MediaKind = "photo"
    video: VideoFacts | None = Field(default=None, description="Set when media_kind is video.")


class MediaUploaded(Event):
    """A photo or video was accepted, stored and recorded by the ingest service. Exactly once
    per media."""

    EVENT_TYPE = "media.uploaded"
    event_type: Literal["media.uploaded"] = "media.uploaded"
    schema_version: Literal[1] = 1
    data: MediaUploadedData


class Category(StrEnum):
    photo = "photo"
    screenshot = "screenshot"
    document = "document"
    other = "other"


ReasonCode = Annotated[
    str,
    StringConstraints(min_length=3, max_length=120, pattern=r"^[a-z_]+:[A-Za-z0-9_.:-]+$"),
    Field(description="`<signal>:<detail>`, e.g. `blurry:low_laplacian_variance`, "
          "`duplicate:burst_of:<media_id>`.", examples=["screenshot:no_camera_exif"]),
]


class Quality(StrictModel):
    sharpness: float = Field(ge=0, le=1, description="1 = crisp, 0 = very blurry.")
    exposure: float = Field(ge=0, le=1, description="1 = well exposed, 0 = black or blown out.")
    noise: float = Field(ge=0, le=1, description="0 = clean, 1 = very noisy.")
    brightness: float = Field(ge=0, le=1, description="Mean luminance.")


class ModelInfo(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Moment(StrictModel):
    """A stretch of a video, in seconds from its start."""

    start_s: float = Field(ge=0, le=86_400)
    end_s: float = Field(ge=0, le=86_400)


class VideoVerdict(StrictModel):
    """What the classifier found in a video's sampled frames."""

    duration_s: float = Field(gt=0, le=86_400)
    frames_sampled: int = Field(ge=0, le=1_000)
    poster_time_s: float | None = Field(
        default=None, ge=0, le=86_400, description="The best sampled frame, for a poster.")
    best_moment: Moment | None = Field(
        default=None, description="The 3-6 s with the highest sustained quality.")
    poster_key: ObjectKey | None = Field(
        default=None, description="The ingest's poster frame (from the upload), for display.")


MAX_FACE_BOXES: Final = 64


class FaceBox(StrictModel):
    """Where a face is: a box, 0..1 of the (orientation-corrected) image's width and height,
    and the detector's confidence. Faces are detected, never identified: no face embedding,
    descriptor or identity is computed, stored or published."""

    left: float = Field(ge=0, le=1)
    top: float = Field(ge=0, le=1)
    right: float = Field(ge=0, le=1)
    bottom: float = Field(ge=0, le=1)
    probability: float = Field(ge=0, le=1, description="The detector's confidence.")


class MediaClassifiedData(StrictModel):
    media_id: UUID
    user_key: UserKey
    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    object_key: ObjectKey
    width: int = Field(ge=0, le=1_000_000)
    height: int = Field(ge=0, le=1_000_000)
    captured_at: UtcDatetime | None = None
    coarse_location: Geohash | None = None
    category: Category
    quality: Quality | None = Field(default=None, description="None when the image was unreadable.")
    duplicate_group: UUID | None = Field(default=None, description="Near-duplicate group id.")
    is_best_in_group: bool = True
    nsfw_score: float | None = Field(default=None, ge=0, le=1)
    face_count: int | None = Field(
        default=None, ge=0, le=1000, description="Faces detected on a photo (0: none); None "
        "when not checked (unreadable media, videos, detection off). Filled since 1.6.0.")
    faces: list[FaceBox] | None = Field(
        default=None, max_length=MAX_FACE_BOXES, description="The counted faces' boxes, "
        "largest first (at most 64); None when not checked. Detected, never identified: no "
        "face embedding or identity exists. Since 1.6.0.")
    labels: list[Annotated[str, StringConstraints(max_length=80)]] = Field(
        default_factory=list, max_length=5, description="Top ImageNet labels."
    )
    embedding: list[float] | None = Field(
        default=None, max_length=2048, description="L2-normalised image embedding."
    )
    gem_score: float = Field(ge=0, le=1)
    is_gem: bool
    reasons: list[ReasonCode] = Field(default_factory=list, max_length=32)
    model: ModelInfo
    media_kind: MediaKind = "photo"
    video: VideoVerdict | None = Field(default=None, description="Set when media_kind is video.")


class MediaClassified(Event):
    """The classifier's verdict on one media item: category, quality, duplicates, gem or not,
    why."""

    EVENT_TYPE = "media.classified"
    event_type: Literal["media.classified"] = "media.classified"
    schema_version: Literal[1] = 1
    data: MediaClassifiedData


class ErasureReason(StrEnum):
    media_deleted = "media_deleted"
    account_erasure = "account_erasure"
    retention_expired = "retention_expired"


class MediaErasedData(StrictModel):
    user_key: UserKey
    media_ids: list[UUID] = Field(min_length=1, max_length=10_000)
    reason: ErasureReason
    erased_at: UtcDatetime


class MediaErased(Event):
    """Media was erased: every service must drop what it holds about these ids."""

    EVENT_TYPE = "media.erased"
    event_type: Literal["media.erased"] = "media.erased"
    schema_version: Literal[1] = 1
    data: MediaErasedData
