"""Turns the holdout plan into files: `build_holdout_roll(out_dir, seed) -> Manifest`."""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image

from ..build import _remove_previous
from ..encode import set_capture_mtime
from ..manifest import CONTENT_TYPES, Camera, ImageFormat, Manifest, SampleItem, SourceRef
from ..parallel import run_all
from ..system import ensure_debian_packages
from . import paper
from .fetch import fetch, holdout_cache, local_path
from .photo import make_photo
from .recipes import PaperRecipe, PhotoRecipe, PlannedItem, ScreenPhotoRecipe, ScreenRecipe
from .screenphoto import screen_photo
from .sources import (
    DOC_PAGES_HOLDOUT,
    EVENTS_HOLDOUT,
    NEWSPAPER,
    OPENCV,
    PAGE_TEXTS,
    PHOTO_BY_KEY,
    PLANT_TRIMAP,
    HoldoutPhoto,
)
from .store import pixel_mode, write_file

log = logging.getLogger("gemroll_dev.samples")
Progress = Callable[[int, int], None]
GENERATOR = "gemroll_dev.samples.holdout"
NOTES = [
    "The holdout roll: every photo, page and text comes from packages that the training roll "
    "(gemroll_dev.samples.catalog) does not use; see docs/evaluation.md.",
    "Labels, slices, names, capture times and recipes depend only on the seed; bytes are "
    "reproducible on one machine (Chromium, x265 and AV1 output may differ across versions).",
    "Blur sizes are given at a 4000-pixel long side and scaled to each frame; no frame is "
    "larger than its source photo.",
]
_ALL = {**PHOTO_BY_KEY, NEWSPAPER.key: NEWSPAPER}


@dataclass(frozen=True)
class _Written:
    pixel_size: tuple[int, int]
    size_bytes: int
    sha256: str


def build_holdout_roll(out_dir: Path, seed: int = 0, *, workers: int | None = None,
                       progress: Progress | None = None, only: int | None = None) -> Manifest:
    """Build the holdout roll into `out_dir` (files + manifest.json). `only`: the first N
    photo items only (for tests), without screenshots."""
    from .plan import plan_holdout

    started = time.monotonic()
    plan = plan_holdout(seed)
    if only is not None:
        plan = [i for i in plan if isinstance(i.recipe, PhotoRecipe)][:only]
    local = prepare_material(plan)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous(out_dir)
    shots = _screenshots(plan, local)
    written = _realise_all(plan, out_dir, shots, local, workers, progress)
    items = [_manifest_item(i, w) for i, w in zip(plan, written, strict=True)]
    manifest = Manifest(size="eval", seed=seed, generator=GENERATOR, events=list(EVENTS_HOLDOUT),
                        notes=NOTES, items=items)
    manifest.write(out_dir)
    log.info("built %d holdout items into %s in %.1f s", len(items), out_dir,
             time.monotonic() - started)
    return manifest


def prepare_material(plan: list[PlannedItem]) -> dict[str, str]:
    """Fetch what the plan needs; returns photo key / page / file -> readable path."""
    needs = {(p.origin, p.path) for p in _ALL.values()}
    needs.add((OPENCV, PLANT_TRIMAP))
    if any(isinstance(i.recipe, ScreenRecipe) for i in plan):
        needs |= set(DOC_PAGES_HOLDOUT)
        ensure_debian_packages([("chromium", "chromium")])
    ensure_debian_packages([("fonts-dejavu-core",
                             "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")])
    fetch(sorted(needs, key=lambda n: (n[0].package, n[1])))
    local = {key: str(local_path(p.origin, p.path)) for key, p in _ALL.items()}
    local[PLANT_TRIMAP] = str(local_path(OPENCV, PLANT_TRIMAP))
    for origin, page in DOC_PAGES_HOLDOUT:
        local[page] = str(local_path(origin, page))
    return local


def _screenshots(plan: list[PlannedItem], local: dict[str, str]) -> dict[str, str]:
    from .screens import HoldoutScreens

    screens = HoldoutScreens(holdout_cache(), {k: Path(v) for k, v in local.items()})
    jobs = {i.id: screens.job(i.recipe) for i in plan if isinstance(i.recipe, ScreenRecipe)}
    if jobs:
        taken = screens.render(list(jobs.values()))
        log.info("holdout screenshots: %d rendered, %d cached", taken, len(jobs) - taken)
    return {item_id: str(job.png_path) for item_id, job in jobs.items()}


def _realise_all(plan: list[PlannedItem], out_dir: Path, shots: dict[str, str],
                 local: dict[str, str], workers: int | None, progress: Progress | None
                 ) -> list[_Written]:
    tasks = [(item, str(out_dir), shots.get(item.id), local) for item in plan]
    return run_all(realise, tasks, [_cost(i) for i in plan], workers, progress)


def _cost(item: PlannedItem) -> float:
    r = item.recipe
    if isinstance(r, ScreenRecipe):
        return 0.1
    if isinstance(r, PaperRecipe | ScreenPhotoRecipe):
        return r.long_side / 1000
    photo = _ALL[r.frame.source]
    return photo.megapixels * (r.frame.box[2] - r.frame.box[0]) * (r.frame.box[3] - r.frame.box[1])


def realise(item: PlannedItem, out_dir: str, shot: str | None, local: dict[str, str]
            ) -> _Written:
    """Make one item's file (runs in a worker process)."""
    path = Path(out_dir) / item.file_name
    recipe = item.recipe

    def load(key: str) -> Image.Image:
        return _load(local[key])

    if isinstance(recipe, ScreenRecipe):
        assert shot is not None
        size = _write_screenshot(Path(shot), path, item)
    else:
        if isinstance(recipe, PhotoRecipe):
            upright = make_photo(recipe, load)
        elif isinstance(recipe, ScreenPhotoRecipe):
            upright = screen_photo(recipe, load(recipe.content), load(recipe.room))
        else:
            upright = _make_paper(recipe, load)
        size = write_file(path, upright, item.encoding, item.captured_at)
    data = path.read_bytes()
    return _Written(size, len(data), hashlib.sha256(data).hexdigest())


def _make_paper(recipe: PaperRecipe, load: Callable[[str], Image.Image]) -> Image.Image:
    text = Path(PAGE_TEXTS[recipe.seed % len(PAGE_TEXTS)]) if recipe.kind == "page" else None
    doc = paper.render(recipe.kind, recipe.seed, text)
    if recipe.presentation == "scan":
        return paper.scanned(doc, recipe)
    assert recipe.table is not None
    return paper.photographed(doc, load(recipe.table), recipe)


@lru_cache(maxsize=4)
def _load(path: str) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("L" if path.endswith("trimaps/plant.png") else "RGB")


def _write_screenshot(shot: Path, path: Path, item: PlannedItem) -> tuple[int, int]:
    if item.encoding.format == "png":
        shutil.copyfile(shot, path)
        with Image.open(path) as image:
            size = image.size
    else:
        with Image.open(shot) as image:
            image.convert("RGB").save(path, "JPEG", quality=item.encoding.quality,
                                      subsampling=item.encoding.subsampling)
            size = image.size
    set_capture_mtime(path, item.captured_at)
    return size


# --- the manifest ----------------------------------------------------------------------------
_FORMATS = {"jpeg": ImageFormat.jpeg, "heic": ImageFormat.heic, "png": ImageFormat.png,
            "png16": ImageFormat.png,
            # The manifest's formats predate AVIF: an AVIF file is an HEIF-family container
            # (its content type says image/avif) until ImageFormat gains `avif`.
            "avif": getattr(ImageFormat, "avif", ImageFormat.heic)}
_TYPES = {"avif": "image/avif"}


def _manifest_item(item: PlannedItem, written: _Written) -> SampleItem:
    enc = item.encoding
    pw, ph = written.pixel_size
    upright = (ph, pw) if enc.orientation in (5, 6, 7, 8) else (pw, ph)
    camera = Camera(make=enc.exif.make, model=enc.exif.model) if (
        enc.exif and enc.exif.exposure_s is not None) else None
    source, background = _refs(item)
    fmt = _FORMATS[enc.format]
    return SampleItem(
        id=item.id, file_name=item.file_name, category=item.category, quality=item.quality,
        burst_id=item.burst_id, is_best_shot=item.is_best_shot, expected_gem=item.expected_gem,
        junk_reason=item.junk_reason, event=item.event, captured_at=item.captured_at,
        format=fmt, content_type=_TYPES.get(enc.format, CONTENT_TYPES[fmt]),
        width=upright[0], height=upright[1], pixel_width=pw, pixel_height=ph,
        orientation=enc.orientation, pixel_mode=pixel_mode(enc), camera=camera,
        gps=enc.exif.gps if enc.exif else None, source=source, background=background,
        variant=item.variant, transform=f"{item.recipe.describe()} | {_describe(enc)}",
        size_bytes=written.size_bytes, sha256=written.sha256, slices=list(item.slices))


def _describe(enc: object) -> str:
    from .recipes import Encoding

    assert isinstance(enc, Encoding)
    parts = [f"{enc.format} q{enc.quality}", enc.mode]
    if enc.orientation != 1:
        parts.append(f"orientation {enc.orientation}")
    if enc.icc:
        parts.append(f"icc {enc.icc}")
    parts.append("camera EXIF" if enc.exif and enc.exif.exposure_s else
                 "scanner EXIF" if enc.exif else "no EXIF")
    return " ".join(parts)


def _photo_ref(photo: HoldoutPhoto) -> SourceRef:
    o = photo.origin
    if o.kind == "debian":
        return SourceRef(kind="debian-package", package=o.package, path=photo.path,
                         note=f"photo by {photo.author}" if photo.author else None)
    return SourceRef(kind="python-package", package=o.package, path=photo.path,
                     note=f"PyPI {o.package} {o.version} {o.archive}")


def _refs(item: PlannedItem) -> tuple[SourceRef, SourceRef | None]:
    r = item.recipe
    if isinstance(r, PhotoRecipe):
        return _photo_ref(_ALL[r.frame.source]), None
    if isinstance(r, ScreenPhotoRecipe):
        return _photo_ref(_ALL[r.content]), _photo_ref(_ALL[r.room])
    if isinstance(r, ScreenRecipe):
        if r.doc_page:
            origin = next(o for o, p in DOC_PAGES_HOLDOUT if p == r.doc_page)
            return SourceRef(kind="debian-package", package=origin.package, path=r.doc_page,
                             note="real HTML documentation, screenshot by headless Chromium"
                             ), None
        return SourceRef(kind="generated", package="chromium", path=f"holdout/pages/{r.page}",
                         note=f"app screen showing real photos {', '.join(r.photos)}"), None
    note = f"text of {PAGE_TEXTS[r.seed % len(PAGE_TEXTS)]}" if r.kind == "page" else None
    doc = SourceRef(kind="generated", package="gemroll-dev", path=f"holdout/documents/{r.kind}",
                    note=note or "drawn with Pillow and DejaVu fonts")
    return doc, _photo_ref(_ALL[r.table]) if r.table else None
