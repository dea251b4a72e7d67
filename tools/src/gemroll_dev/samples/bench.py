"""12-megapixel phone-like JPEGs for throughput benchmarks, made from real photos.

Each is a distinct 4:3 crop of a real photograph, scaled up to 4032x3024, sharpened and given
sensor grain like a phone's output, saved at quality 90 with camera EXIF. Files are reused when
a previous run with the same count and seed left them in place.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from . import catalog, imaging
from .build import ensure_requirements
from .catalog import PHOTOS
from .encode import exif_bytes, set_capture_mtime
from .manifest import Camera, ImageFormat, Manifest, SampleItem, SourceRef
from .plan import Crop, ExifSpec, choose_crop
from .system import photo_path, source_ref_path

BENCH_COUNT = 96
BENCH_SIZE = (4032, 3024)
_STAMP = ".bench-stamp.json"
_VERSION = 1
_START = datetime(2024, 5, 4, 10, 0, tzinfo=timezone(timedelta(hours=2)))


def build_bench_jpegs(out_dir: Path, n: int, seed: int = 0, *,
                      workers: int | None = None) -> list[Path]:
    """`n` distinct 4032x3024 JPEGs (quality 90, camera EXIF) in `out_dir`; returns paths."""
    if n < 1:
        raise ValueError("n must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = _bench_plan(n, seed)
    paths = [out_dir / name for name, *_ in jobs]
    stamp = {"version": _VERSION, "n": n, "seed": seed}
    stamp_path = out_dir / _STAMP
    if stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp and all(
            p.exists() for p in paths):
        return paths
    ensure_requirements(screenshots=False)
    stamp_path.unlink(missing_ok=True)
    tasks = [(out_dir, *job) for job in jobs]
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1:
        for task in tasks:
            _make(*task)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            list(pool.map(_make, *zip(*tasks, strict=True)))
    stamp_path.write_text(json.dumps(stamp))
    return paths


def build_bench_manifest(out_dir: Path, n: int, seed: int = 0, *,
                         workers: int | None = None) -> Manifest:
    """The bench JPEGs plus a manifest (every item a good photo, no bursts)."""
    paths = build_bench_jpegs(out_dir, n, seed, workers=workers)
    items = []
    for index, (path, (name, key, crop, _seed, when, gps)) in enumerate(
            zip(paths, _bench_plan(n, seed), strict=True), start=1):
        data = path.read_bytes()
        photo = catalog.PHOTO_BY_KEY[key]
        items.append(SampleItem(
            id=f"b{index:04d}", file_name=name, category="photo", quality="good", burst_id=None,
            is_best_shot=True, expected_gem=True, junk_reason=None, event="everyday",
            captured_at=when, format=ImageFormat.jpeg, content_type="image/jpeg",
            width=BENCH_SIZE[0], height=BENCH_SIZE[1], pixel_width=BENCH_SIZE[0],
            pixel_height=BENCH_SIZE[1], orientation=1, pixel_mode="RGB",
            camera=Camera(make=catalog.IPHONE.make, model=catalog.IPHONE.model),
            gps=gps, variant="bench_12mp",
            source=SourceRef(kind="python-package" if photo.kind == "python" else
                             "debian-package", package=photo.package,
                             path=source_ref_path(photo)),
            transform=f"{crop.describe()} upscale(4032x3024) unsharp grain jpeg(q=90)",
            size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        ))
    manifest = Manifest(size="bench", seed=seed, events=list(catalog.EVENTS),
                        notes=["12-megapixel JPEGs for benchmarks; labels are trivial."],
                        items=items)
    manifest.write(out_dir)
    return manifest


def _bench_plan(n: int, seed: int) -> list[tuple]:
    """(file name, source key, crop, noise seed, capture time, gps) for each JPEG."""
    rng = random.Random(f"gemroll-bench:{seed}")
    sources = [p for p in PHOTOS if p.megapixels >= 2.0]
    rng.shuffle(sources)
    used: dict[str, list[Crop]] = {}
    plan = []
    for i in range(n):
        photo = sources[i % len(sources)]
        crop = choose_crop(rng, photo, 4 / 3, used.setdefault(photo.key, []))
        used[photo.key].append(crop)
        info = catalog.EVENT_BY_KEY[photo.event]
        gps = info.gps if rng.random() < 0.7 else None
        plan.append((f"bench_{i:04d}.jpg", photo.key, crop, rng.randrange(2**31),
                     _START + timedelta(seconds=37 * i), gps))
    return plan


def _make(out_dir: Path, name: str, key: str, crop: Crop, seed: int, when: datetime,
          gps: object) -> None:
    photo = catalog.PHOTO_BY_KEY[key]
    image = imaging.crop(Image.open(photo_path(photo)).convert("RGB"), crop)
    # Sharpened before upscaling (cheaper than at 12 MP, and it looks the same).
    image = image.filter(ImageFilter.UnsharpMask(radius=1.5, percent=80, threshold=1))
    image = image.resize(BENCH_SIZE, Image.Resampling.BICUBIC)
    image = imaging.add_grain(image, 3.0, np.random.default_rng(seed))
    device = catalog.IPHONE
    exif = ExifSpec(device.make, device.model, device.software, device.lens, device.focal_mm,
                    64, 1 / 250, 1.5, gps)  # type: ignore[arg-type]
    path = out_dir / name
    tmp = path.with_suffix(".tmp")
    image.save(tmp, "JPEG", quality=90, subsampling="4:2:0",
               exif=exif_bytes(exif, when))
    tmp.replace(path)
    set_capture_mtime(path, when)
