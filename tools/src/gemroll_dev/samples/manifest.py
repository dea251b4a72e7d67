"""The labeled manifest written next to a sample camera roll (`manifest.json`)."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MANIFEST_NAME = "manifest.json"
SizeName = Literal["demo", "eval", "bench", "train"]


class Category(StrEnum):
    photo = "photo"
    screenshot = "screenshot"
    document = "document"
    video = "video"


class QualityLabel(StrEnum):
    good = "good"
    blurry = "blurry"
    dark = "dark"
    shaky = "shaky"  # videos: hand-held jitter with motion blur
    accidental = "accidental"  # videos: recorded by accident (in a pocket)


class JunkReason(StrEnum):
    """Why an item is not a gem (the first that applies, in this order)."""

    screenshot = "screenshot"
    document = "document"
    blurry = "blurry"
    dark = "dark"
    shaky = "shaky"
    accidental = "accidental"
    duplicate = "duplicate"


class ImageFormat(StrEnum):
    jpeg = "jpeg"
    heic = "heic"
    webp = "webp"
    png = "png"
    mp4 = "mp4"  # videos (the name stays: the manifest's `format` field)
    mov = "mov"


CONTENT_TYPES: dict[ImageFormat, str] = {
    ImageFormat.jpeg: "image/jpeg",
    ImageFormat.heic: "image/heic",
    ImageFormat.webp: "image/webp",
    ImageFormat.png: "image/png",
    ImageFormat.mp4: "video/mp4",
    ImageFormat.mov: "video/quicktime",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Model):
    """Where the real material of an item came from."""

    kind: Literal["python-package", "debian-package", "generated"]
    package: str = Field(description="PyPI or Debian package, or `gemroll-dev` for generated.")
    path: str = Field(description="File inside the package (or the generator's name).")
    note: str | None = None


class Camera(_Model):
    make: str
    model: str


class GpsPoint(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class EventInfo(_Model):
    key: str
    title: str
    place: str
    utc_offset: str = Field(description="Local time offset, e.g. `+02:00`.")
    gps: GpsPoint | None


class VideoInfo(_Model):
    """A clip's facts, as its container says them (`gemroll_common.video.probe`)."""

    duration_s: float = Field(gt=0)
    fps: float | None
    codec: str
    has_audio: bool
    motion: str = Field(description="`pan`, `shake`, `pocket`, `dark` or `camera` (real).")


class SampleItem(_Model):
    id: str
    file_name: str
    category: Category
    quality: QualityLabel
    burst_id: str | None = Field(default=None, description="Shared by the frames of one burst.")
    is_best_shot: bool = Field(
        description="False only for burst frames that are not the burst's intended best shot."
    )
    expected_gem: bool = Field(description="A good photo that is the best shot of its burst.")
    junk_reason: JunkReason | None
    event: str = Field(description="Key of the event (day/place) or `everyday`.")
    captured_at: AwareDatetime
    format: ImageFormat
    content_type: str
    width: int = Field(ge=1, description="Width as displayed (EXIF orientation applied).")
    height: int = Field(ge=1)
    pixel_width: int = Field(ge=1, description="Width of the stored pixels.")
    pixel_height: int = Field(ge=1)
    orientation: int = Field(ge=1, le=8, description="EXIF orientation written in the file.")
    pixel_mode: Literal["RGB", "L", "CMYK", "RGB16", "YUV420"]
    camera: Camera | None = Field(description="Camera EXIF (Make/Model); None: no camera EXIF.")
    gps: GpsPoint | None = None
    source: SourceRef
    background: SourceRef | None = Field(
        default=None, description="Real photo under a photographed document."
    )
    variant: str = Field(description="How it was made, e.g. `gaussian_blur`, `page:chat`.")
    transform: str = Field(description="The recipe, human-readable.")
    size_bytes: int = Field(ge=1)
    sha256: str
    video: VideoInfo | None = Field(default=None, description="Set for clips.")
    slices: list[str] = Field(
        default_factory=list,
        description="Evaluation slices the item belongs to (`night`, `chat_copy`, `blur_shake`"
                    ", ...); empty in rolls made before slices existed.",
    )


class Manifest(_Model):
    schema_version: Literal[1] = 1
    generator: str = "gemroll_dev.samples"
    size: SizeName
    seed: int
    events: list[EventInfo]
    notes: list[str] = Field(default_factory=list)
    items: list[SampleItem]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = Counter(item.file_name for item in self.items)
        if dupes := [n for n, c in names.items() if c > 1]:
            raise ValueError(f"duplicate file names: {dupes[:5]}")
        bursts: dict[str, int] = Counter()
        for item in self.items:
            if item.burst_id is not None:
                bursts[item.burst_id] += int(item.is_best_shot)
            elif not item.is_best_shot:
                raise ValueError(f"{item.id}: only burst frames can be non-best")
            if item.expected_gem != is_expected_gem(item.category, item.quality, item.is_best_shot):
                raise ValueError(f"{item.id}: expected_gem contradicts the labels")
            if item.junk_reason != junk_reason(item.category, item.quality, item.is_best_shot):
                raise ValueError(f"{item.id}: junk_reason contradicts the labels")
        if wrong := [b for b, best in bursts.items() if best != 1]:
            raise ValueError(f"bursts without exactly one best shot: {wrong}")
        return self

    def counts(self) -> dict[str, int]:
        """Items per `category/quality`, plus gems and bursts: a one-line summary."""
        tally = Counter(f"{i.category}/{i.quality}" for i in self.items)
        tally["gems"] = sum(i.expected_gem for i in self.items)
        tally["bursts"] = len({i.burst_id for i in self.items if i.burst_id})
        return dict(sorted(tally.items()))

    def write(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_NAME
        path.write_text(self.model_dump_json(indent=1) + "\n")
        return path

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        return cls.model_validate_json((out_dir / MANIFEST_NAME).read_text())


def is_expected_gem(category: Category, quality: QualityLabel, is_best_shot: bool) -> bool:
    """A good photo that is the best shot of its burst, or a good clip."""
    return (category in (Category.photo, Category.video) and quality is QualityLabel.good
            and is_best_shot)


def junk_reason(
    category: Category, quality: QualityLabel, is_best_shot: bool
) -> JunkReason | None:
    if category is Category.screenshot:
        return JunkReason.screenshot
    if category is Category.document:
        return JunkReason.document
    if quality is QualityLabel.blurry:
        return JunkReason.blurry
    if quality is QualityLabel.dark:
        return JunkReason.dark
    if quality is QualityLabel.shaky:
        return JunkReason.shaky
    if quality is QualityLabel.accidental:
        return JunkReason.accidental
    if not is_best_shot:
        return JunkReason.duplicate
    return None
