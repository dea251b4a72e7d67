"""Turns the plan into files: `build_camera_roll(out_dir, size, seed) -> Manifest`."""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import catalog, imaging
from .catalog import PHOTO_BY_KEY, RealPhoto
from .documents import FONT_DIR, flat_scan, photograph, render_document
from .encode import set_capture_mtime, write_image
from .manifest import (
    CONTENT_TYPES,
    MANIFEST_NAME,
    Camera,
    ImageFormat,
    Manifest,
    SampleItem,
    SizeName,
    SourceRef,
)
from .parallel import run_all
from .plan import Crop, DocumentRecipe, PhotoRecipe, PlannedItem, ScreenRecipe, plan_camera_roll
from .system import cache_root, ensure_debian_packages, photo_path, source_ref_path
from .video_build import build_clips, debian_needs
from .video_plan import plan_clips

log = logging.getLogger("gemroll_dev.samples")
Progress = Callable[[int, int], None]

NOTES = [
    "Labels, file names, capture times and recipes depend only on size and seed.",
    "Bytes are reproducible on one machine; across machines, Chromium screenshots and x265 "
    "(HEIC) output may differ with their versions, so sha256/size_bytes of those may too.",
    "Photos are crops of real photographs shipped in Python wheels and Debian packages "
    "(see each item's source); screenshots are real headless-Chromium renderings.",
    "Clips (category video, ids v0001...) follow the photos: camera motions over real photos "
    "encoded by PyAV's FFmpeg (x264/x265 output may differ across versions), and one real "
    "phone clip copied as recorded.",
]


@dataclass(frozen=True)
class _Written:
    file_name: str
    pixel_size: tuple[int, int]
    size_bytes: int
    sha256: str


def build_camera_roll(out_dir: Path, size: SizeName = "demo", seed: int = 0, *,
                      workers: int | None = None, cache_dir: Path | None = None,
                      progress: Progress | None = None) -> Manifest:
    """Build the labeled sample roll into `out_dir` (files + manifest.json) and return it.

    `size`: demo (~50 items), eval (~400) or bench (12-megapixel JPEGs only)."""
    out_dir = Path(out_dir)
    if size == "bench":
        from .bench import BENCH_COUNT, build_bench_manifest

        return build_bench_manifest(out_dir, BENCH_COUNT, seed, workers=workers)
    started = time.monotonic()
    plan, clips = plan_camera_roll(size, seed), plan_clips(size, seed)
    ensure_requirements(screenshots=any(isinstance(i.recipe, ScreenRecipe) for i in plan))
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous(out_dir)
    cache = cache_dir or cache_root()
    screens = _screenshots(plan, cache)
    written = _realise_all(plan, out_dir, screens, workers, progress)
    items = [_manifest_item(i, w) for i, w in zip(plan, written, strict=True)]
    items += build_clips(clips, out_dir)
    manifest = Manifest(size=size, seed=seed, events=list(catalog.EVENTS), notes=NOTES,
                        items=items)
    manifest.write(out_dir)
    log.info("built %d items (%d clips) into %s in %.1f s", len(items), len(clips), out_dir,
             time.monotonic() - started)
    return manifest


def ensure_requirements(*, screenshots: bool = True) -> list[str]:
    """Install the Debian packages the roll needs when they are missing."""
    needs = [(p.package, p.path) for p in catalog.PHOTOS + catalog.TABLE_PHOTOS
             if p.kind == "debian"]
    needs.append(("fonts-dejavu-core", str(FONT_DIR / "DejaVuSans.ttf")))
    needs += debian_needs(plan_clips("demo"))  # the real phone clip
    if screenshots:
        needs.append(("chromium", "chromium"))
        needs += [("debian-reference-en", page) for page in catalog.DOC_PAGES]
    return ensure_debian_packages(needs)


def _remove_previous(out_dir: Path) -> None:
    """Files listed by an earlier manifest in this folder go, so no stale item remains."""
    try:
        previous = Manifest.read(out_dir)
    except (FileNotFoundError, ValueError):
        return
    for item in previous.items:
        (out_dir / item.file_name).unlink(missing_ok=True)
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)


def _screenshots(plan: list[PlannedItem], cache: Path) -> dict[str, Path]:
    from .chromium import ScreenshotCache

    shots = ScreenshotCache(cache)
    jobs = {item.id: shots.job(item.recipe, item.captured_at)
            for item in plan if isinstance(item.recipe, ScreenRecipe)}
    if jobs:
        taken = shots.render(list(jobs.values()))
        log.info("screenshots: %d rendered, %d cached", taken, len(jobs) - taken)
    return {item_id: job.png_path for item_id, job in jobs.items()}


def _realise_all(plan: list[PlannedItem], out_dir: Path, screens: dict[str, Path],
                 workers: int | None, progress: Progress | None) -> list[_Written]:
    tasks = [(item, out_dir, screens.get(item.id)) for item in plan]
    return run_all(realise, tasks, [_cost(i) for i in plan], workers, progress)


def _cost(item: PlannedItem) -> float:
    recipe = item.recipe
    if isinstance(recipe, ScreenRecipe):
        return 0.1
    if isinstance(recipe, DocumentRecipe):
        return 3.0 if recipe.photographed else 1.0
    heic = 2.0 if item.encoding.format is ImageFormat.heic else 0.0
    return heic + recipe.long_side / 1000


def realise(item: PlannedItem, out_dir: Path, screenshot: Path | None) -> _Written:
    """Make one item's file (runs in a worker process)."""
    path = out_dir / item.file_name
    recipe = item.recipe
    if isinstance(recipe, ScreenRecipe):
        assert screenshot is not None
        size = _write_screenshot(screenshot, path, item)
    else:
        if isinstance(recipe, PhotoRecipe):
            upright = make_photo(recipe)
        else:
            upright = make_document(recipe, item)
        size = write_image(path, upright, item.encoding, item.captured_at)
    data = path.read_bytes()
    return _Written(item.file_name, size, len(data), hashlib.sha256(data).hexdigest())


def make_photo(recipe: PhotoRecipe) -> Image.Image:
    photo = PHOTO_BY_KEY[recipe.source]
    crop_px = max((recipe.crop.x1 - recipe.crop.x0) * photo.size[0],
                  (recipe.crop.y1 - recipe.crop.y0) * photo.size[1])
    source = _load(photo.key, _draft_factor(recipe.long_side / crop_px))
    rng = np.random.default_rng(recipe.seed)
    image = imaging.resize_long(imaging.crop(source, recipe.crop), recipe.long_side)
    image = imaging.apply_effect(image, recipe.effect, rng, _subject_in(photo, recipe.crop))
    return imaging.camera_finish(image, recipe.grain, rng, sharpen=recipe.sharpen)


def _subject_in(photo: RealPhoto, crop: Crop) -> tuple[float, float, float, float]:
    """The source's subject box in the crop's coordinates (mirrored with it)."""
    sx0, sy0, sx1, sy1 = photo.subject
    cw, ch = crop.x1 - crop.x0, crop.y1 - crop.y0
    x0, x1 = (max(0.0, min(1.0, (v - crop.x0) / cw)) for v in (sx0, sx1))
    y0, y1 = (max(0.0, min(1.0, (v - crop.y0) / ch)) for v in (sy0, sy1))
    return (1 - x1, y0, 1 - x0, y1) if crop.flip else (x0, y0, x1, y1)


def make_document(recipe: DocumentRecipe, item: PlannedItem) -> Image.Image:
    doc = render_document(recipe.kind, recipe.doc_seed, item.captured_at, item.event)
    if not recipe.photographed:
        return flat_scan(doc, recipe)
    assert recipe.table is not None
    table_photo = PHOTO_BY_KEY[recipe.table]
    x0, y0, x1, y1 = table_photo.subject
    w, h = table_photo.size
    table = _load(table_photo.key, 1).crop((round(x0 * w), round(y0 * h),
                                            round(x1 * w), round(y1 * h)))
    return photograph(doc, table, recipe)


def _write_screenshot(screenshot: Path, path: Path, item: PlannedItem) -> tuple[int, int]:
    """The browser's own PNG bytes, or a JPEG of it as some phones save screenshots."""
    if item.encoding.format is ImageFormat.png:
        shutil.copyfile(screenshot, path)
        with Image.open(path) as image:
            size = image.size
    else:
        with Image.open(screenshot) as image:
            image.convert("RGB").save(path, "JPEG", quality=item.encoding.quality)
            size = image.size
    set_capture_mtime(path, item.captured_at)
    return size


def _draft_factor(scale: float) -> int:
    """JPEG sources decode at 1/2 or 1/4 size when the output is that much smaller."""
    return 4 if scale <= 0.24 else 2 if scale <= 0.48 else 1


@lru_cache(maxsize=3)
def _load(key: str, reduce: int) -> Image.Image:
    photo: RealPhoto = PHOTO_BY_KEY[key]
    image = Image.open(photo_path(photo))
    if reduce > 1 and image.format == "JPEG":
        image.draft("RGB", (photo.size[0] // reduce, photo.size[1] // reduce))
    return image.convert("RGB")


def _manifest_item(item: PlannedItem, written: _Written) -> SampleItem:
    recipe, enc = item.recipe, item.encoding
    source, background = _source_refs(item)
    pw, ph = written.pixel_size
    upright = (ph, pw) if enc.orientation in (5, 6, 7, 8) else (pw, ph)
    camera = Camera(make=enc.exif.make, model=enc.exif.model) if (
        enc.exif and enc.exif.exposure_s is not None) else None
    return SampleItem(
        id=item.id, file_name=item.file_name, category=item.category, quality=item.quality,
        burst_id=item.burst_id, is_best_shot=item.is_best_shot,
        expected_gem=item.expected_gem, junk_reason=item.junk_reason, event=item.event,
        captured_at=item.captured_at, format=enc.format, content_type=CONTENT_TYPES[enc.format],
        width=upright[0], height=upright[1], pixel_width=pw, pixel_height=ph,
        orientation=enc.orientation, pixel_mode=enc.pixel_mode, camera=camera,
        gps=enc.exif.gps if enc.exif else None, source=source, background=background,
        variant=item.variant, transform=recipe.describe(), size_bytes=written.size_bytes,
        sha256=written.sha256,
    )


def _source_refs(item: PlannedItem) -> tuple[SourceRef, SourceRef | None]:
    recipe = item.recipe
    if isinstance(recipe, PhotoRecipe):
        return _photo_ref(PHOTO_BY_KEY[recipe.source]), None
    if isinstance(recipe, ScreenRecipe):
        if recipe.page == "docs" and recipe.doc_page:
            return SourceRef(kind="debian-package", package="debian-reference-en",
                             path=recipe.doc_page,
                             note="real HTML documentation, screenshot by headless Chromium"), None
        return SourceRef(kind="generated", package="chromium", path=f"pages/{recipe.page}",
                         note="app screen generated by gemroll_dev.samples.pages, screenshot "
                              "by headless Chromium"), None
    doc = SourceRef(kind="generated", package="gemroll-dev", path=f"documents/{recipe.kind}",
                    note="drawn with Pillow and DejaVu fonts")
    table = _photo_ref(PHOTO_BY_KEY[recipe.table]) if recipe.table else None
    return doc, table


def _photo_ref(photo: RealPhoto) -> SourceRef:
    return SourceRef(kind="python-package" if photo.kind == "python" else "debian-package",
                     package=photo.package, path=source_ref_path(photo),
                     note=f"photo by {photo.author}" if photo.author else None)
