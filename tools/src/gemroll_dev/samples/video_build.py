"""Turns the clips' plan into files and manifest items: `build_clips(plan, out_dir)`.

Synthetic clips are encoded by `gemroll_testkit.clips` from a real photo of the catalog; the
real clip is copied as recorded. Every item's facts come from reading the written file back
(`gemroll_common.video.probe`), so the manifest says what the container says.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

from gemroll_common.video import VideoProbe, probe
from PIL import Image

from . import imaging
from .catalog import EVENT_BY_KEY, PHOTO_BY_KEY
from .encode import set_capture_mtime
from .manifest import CONTENT_TYPES, GpsPoint, SampleItem, SourceRef, VideoInfo
from .plan import _tz
from .real_videos import CLIPS, RealClip, real_clips
from .system import photo_path, source_ref_path
from .video_plan import ClipRecipe, PlannedClip, RealClipRecipe

REAL_BY_KEY: dict[str, RealClip] = {c.key: c for c in CLIPS}


def build_clips(plan: list[PlannedClip], out_dir: Path) -> list[SampleItem]:
    """Write every planned clip into `out_dir`; their manifest items, in plan order."""
    return [_build(clip, out_dir) for clip in plan]


def debian_needs(plan: list[PlannedClip]) -> list[tuple[str, str]]:
    """(package, probe) of the Debian packages holding the plan's real clips."""
    real = [REAL_BY_KEY[c.recipe.key] for c in plan if isinstance(c.recipe, RealClipRecipe)]
    return [(r.package, r.member) for r in real if r.kind == "debian"]


def make_clip(recipe: ClipRecipe, captured_at: datetime, gps: GpsPoint | None) -> bytes:
    from gemroll_testkit.clips import Motion, clip

    return clip(Motion(recipe.motion), container=recipe.container, codec=recipe.codec,
                size=recipe.size, fps=recipe.fps, seconds=recipe.seconds, seed=recipe.seed,
                picture=picture(recipe), audio=recipe.audio,
                created_at=captured_at.astimezone(UTC),  # the container keeps UTC
                location=(gps.lat, gps.lon) if gps else None)


def picture(recipe: ClipRecipe) -> Image.Image:
    """The real photo's window at 1.5 times the clip's size (what the motion moves over)."""
    photo = PHOTO_BY_KEY[recipe.source]
    width, height = recipe.size[0] * 3 // 2, recipe.size[1] * 3 // 2
    with Image.open(photo_path(photo)) as image:
        window = recipe.crop.x1 - recipe.crop.x0
        if image.format == "JPEG":  # decode at 1/2 or 1/4 size when that is still enough
            image.draft("RGB", (int(width / window), int(height / window)))
        source = image.convert("RGB")
    return imaging.crop(source, recipe.crop).resize((width, height), Image.Resampling.LANCZOS)


def _build(clip: PlannedClip, out_dir: Path) -> SampleItem:
    path = out_dir / clip.file_name
    recipe = clip.recipe
    if isinstance(recipe, ClipRecipe):
        assert clip.captured_at is not None
        path.write_bytes(make_clip(recipe, clip.captured_at, clip.gps))
    else:
        shutil.copyfile(real_clips((REAL_BY_KEY[recipe.key],))[recipe.key], path)
    facts = probe(path)
    captured_at = clip.captured_at or _local(facts, clip.event)
    set_capture_mtime(path, captured_at)
    data = path.read_bytes()
    return _item(clip, facts, captured_at, len(data), hashlib.sha256(data).hexdigest())


def _local(facts: VideoProbe, event: str) -> datetime:
    if facts.created_at is None:
        raise ValueError("the real clip has no creation time in its container")
    return facts.created_at.astimezone(_tz(EVENT_BY_KEY[event].utc_offset))


def _item(clip: PlannedClip, facts: VideoProbe, captured_at: datetime, size_bytes: int,
          sha256: str) -> SampleItem:
    sideways = facts.rotation in (90, 270)
    coded = (facts.height, facts.width) if sideways else (facts.width, facts.height)
    gps = clip.gps or (GpsPoint(lat=facts.location[0], lon=facts.location[1])
                       if facts.location else None)
    motion = clip.recipe.motion if isinstance(clip.recipe, ClipRecipe) else "camera"
    return SampleItem(
        id=clip.id, file_name=clip.file_name, category=clip.category, quality=clip.quality,
        is_best_shot=True, expected_gem=clip.expected_gem, junk_reason=clip.junk_reason,
        event=clip.event, captured_at=captured_at, format=clip.format,
        content_type=CONTENT_TYPES[clip.format], width=facts.width, height=facts.height,
        pixel_width=coded[0], pixel_height=coded[1], orientation=1, pixel_mode="YUV420",
        camera=None, gps=gps, source=_source(clip), variant=clip.variant,
        transform=clip.recipe.describe(), size_bytes=size_bytes, sha256=sha256,
        video=VideoInfo(duration_s=round(facts.duration_s, 3), fps=facts.fps,
                        codec=facts.video_codec, has_audio=facts.has_audio, motion=motion),
    )


def _source(clip: PlannedClip) -> SourceRef:
    recipe = clip.recipe
    if isinstance(recipe, RealClipRecipe):
        real = REAL_BY_KEY[recipe.key]
        kind = "debian-package" if real.kind == "debian" else "python-package"
        return SourceRef(kind=kind, package=real.package, path=real.member,
                         note=f"real clip by {real.camera}: {real.shows}; {real.license}")
    photo = PHOTO_BY_KEY[recipe.source]
    by = f" by {photo.author}" if photo.author else ""
    return SourceRef(kind="python-package" if photo.kind == "python" else "debian-package",
                     package=photo.package, path=source_ref_path(photo),
                     note=f"a {recipe.motion} over this photo{by}, encoded by PyAV's FFmpeg "
                          "(gemroll_testkit.clips)")
