"""The clips of a sample camera roll: labels, times and recipes. Pure: no I/O.

Four kinds a phone records, each a camera motion over a real photo of the catalog (made by
`gemroll_testkit.clips`): a steady pan (a gem), a shaky hand-held shot, a pocket recording
and a dark one (junk); plus one real phone clip (`real_videos`), a gem. Like the photos'
plan, it depends only on the size and the seed (its own random stream, so the photos stay
exactly what they were).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from . import catalog
from .catalog import RealPhoto
from .manifest import (
    Category,
    GpsPoint,
    ImageFormat,
    JunkReason,
    QualityLabel,
    SizeName,
    is_expected_gem,
    junk_reason,
)
from .plan import Crop, _tz

ClipMotion = Literal["pan", "shake", "pocket", "dark"]
REAL_CLIP = "android-dog"
"""The real camera clip in every roll (an Android phone's MP4 with its location)."""


@dataclass(frozen=True)
class ClipRecipe:
    """A camera motion over a 16:9 window of a real photo, encoded as a phone would."""

    motion: ClipMotion
    source: str  # catalog key
    crop: Crop
    container: Literal["mp4", "mov"]
    codec: Literal["h264", "hevc"]
    size: tuple[int, int]
    fps: int
    seconds: float
    audio: bool
    seed: int

    def describe(self) -> str:
        audio = " +AAC" if self.audio else ""
        return (f"{self.motion} over {self.source} {self.crop.describe()} "
                f"{self.codec} {self.container} {self.size[0]}x{self.size[1]} "
                f"{self.fps}fps {self.seconds:g}s{audio}")


@dataclass(frozen=True)
class RealClipRecipe:
    key: str  # real_videos.CLIPS key

    def describe(self) -> str:
        return f"real camera clip {self.key}, copied as recorded"


@dataclass(frozen=True)
class PlannedClip:
    id: str
    file_name: str
    quality: QualityLabel
    event: str
    captured_at: datetime | None
    """None: the container's own creation time (the real clip)."""
    gps: GpsPoint | None
    recipe: ClipRecipe | RealClipRecipe
    variant: str
    device: str

    category = Category.video

    @property
    def format(self) -> ImageFormat:
        mov = isinstance(self.recipe, ClipRecipe) and self.recipe.container == "mov"
        return ImageFormat.mov if mov else ImageFormat.mp4

    @property
    def expected_gem(self) -> bool:
        return is_expected_gem(Category.video, self.quality, True)

    @property
    def junk_reason(self) -> JunkReason | None:
        return junk_reason(Category.video, self.quality, True)


@dataclass(frozen=True)
class _Kind:
    motion: ClipMotion
    quality: QualityLabel
    event: str
    device: Literal["iphone", "pixel"]
    seconds: float
    located: bool
    sources: tuple[str, ...]  # catalog keys of the event's photos, one per round
    day: int = 0  # of the event's days


KINDS: tuple[_Kind, ...] = (
    # The gem on the Lisbon Saturday, whose few gems all make its highlight (and recap).
    _Kind("pan", QualityLabel.good, "lisbon", "pixel", 6.0, True, ("lamp_bird", "bridge"),
          day=1),
    _Kind("shake", QualityLabel.shaky, "lisbon", "iphone", 6.0, True, ("brushes", "fig")),
    _Kind("pocket", QualityLabel.accidental, "florida", "pixel", 5.0, False, ("dune", "storm")),
    _Kind("dark", QualityLabel.dark, "birthday", "iphone", 4.0, True, ("wine", "clock")),
)
ROUNDS: dict[str, int] = {"demo": 1, "eval": 2}
"""How many clips of each kind a size has (plus the one real clip)."""
CLIP_SIZE = (640, 360)
CLIP_FPS = 24


def plan_clips(size: SizeName, seed: int = 0) -> list[PlannedClip]:
    """The roll's clips in capture order; none for the bench size."""
    if size not in ROUNDS:
        return []
    rng = random.Random(f"gemroll-samples:videos:{size}:{seed}")
    drafts = [_synthetic(rng, kind, n) for n in range(ROUNDS[size]) for kind in KINDS]
    drafts.sort(key=lambda d: d[0])
    counter = rng.randrange(8000, 9000)  # the iPhone's own numbering, apart from the photos
    clips = []
    for n, (at, kind, recipe, gps) in enumerate(drafts, start=1):
        counter += 1
        name = (f"IMG_{counter:04d}.MOV" if kind.device == "iphone"
                else f"PXL_{at:%Y%m%d_%H%M%S}{at.microsecond // 1000:03d}.mp4")
        clips.append(PlannedClip(f"v{n:04d}", name, kind.quality, kind.event, at, gps, recipe,
                                 f"clip:{kind.motion}", kind.device))
    clips.append(PlannedClip(f"v{len(clips) + 1:04d}", "VID_20191220_170832.mp4",
                             QualityLabel.good, "dog_evening", None, None,
                             RealClipRecipe(REAL_CLIP), "clip:real", "android"))
    return clips


def _synthetic(rng: random.Random, kind: _Kind, round_: int
               ) -> tuple[datetime, _Kind, ClipRecipe, GpsPoint | None]:
    photo = catalog.PHOTO_BY_KEY[kind.sources[round_ % len(kind.sources)]]
    iphone = kind.device == "iphone"
    recipe = ClipRecipe(kind.motion, photo.key, wide_crop(rng, photo),
                        "mov" if iphone else "mp4", "hevc" if iphone else "h264", CLIP_SIZE,
                        CLIP_FPS, kind.seconds, audio=True, seed=rng.randrange(2**31))
    info = catalog.EVENT_BY_KEY[kind.event]
    first, days = catalog.EVENT_DAYS[kind.event]
    day = date.fromisoformat(first) + timedelta(days=(kind.day + round_) % days)
    at = datetime.combine(day, time(10), _tz(info.utc_offset)) + timedelta(
        minutes=rng.randrange(300), milliseconds=rng.randrange(1000))
    gps = None
    if kind.located and info.gps:
        gps = GpsPoint(lat=round(info.gps.lat + rng.uniform(-0.02, 0.02), 4),
                       lon=round(info.gps.lon + rng.uniform(-0.02, 0.02), 4))
    return at, kind, recipe, gps


def wide_crop(rng: random.Random, photo: RealPhoto, aspect: float = 16 / 9) -> Crop:
    """A 16:9 window (fractions) around the subject's centre, 80-100% of the largest one."""
    width, height = photo.size
    scale = rng.uniform(0.8, 1.0)
    cw = min(width, height * aspect) * scale
    ch = cw / aspect
    fw, fh = cw / width, ch / height
    sx0, sy0, sx1, sy1 = photo.subject
    x0 = min(max(0.0, (sx0 + sx1) / 2 - fw / 2), 1.0 - fw)
    y0 = min(max(0.0, (sy0 + sy1) / 2 - fh / 2), 1.0 - fh)
    return Crop(round(x0, 4), round(y0, 4), round(x0 + fw, 4), round(y0 + fh, 4))
