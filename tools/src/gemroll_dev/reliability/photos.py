"""A deterministic camera roll: photo-like scenes with camera EXIF, grouped into days.

Every (seed, index) gives the same bytes; different indexes give visibly different scenes
(no accidental near-duplicates). Small by default, so 2,000 of them classify quickly on CPU.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from PIL import Image

from ..bench.ingest_samples import exif

EPOCH = datetime(2025, 5, 3, 9, 0, tzinfo=UTC)
DAY_GAP = timedelta(days=1)
"""Events are one day apart: far beyond the suggester's gap, so each day is one event."""
SHOT_GAP = timedelta(minutes=7)


def scene(seed: int, size: tuple[int, int]) -> np.ndarray:
    """Sky, a horizon, textured ground and a few hard-edged objects, with sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    hue = rng.uniform(0, 2 * np.pi)
    ones = np.ones_like(x)
    sky = np.stack([(90 + 60 * np.cos(hue)) * ones, (140 + 50 * np.sin(hue)) * ones,
                    (200 + 40 * np.cos(hue / 2)) * ones], -1) * (1 - 0.35 * y[..., None] / h)
    horizon = h * (0.4 + 0.15 * np.sin(x / w * rng.uniform(2, 9) + rng.uniform(0, 6)))
    fx, fy = rng.uniform(5, 40, 2)
    ground = np.stack([60 + 60 * np.sin(x / fx + y / fy) ** 2, 100 + 70 * np.sin(x / fy) ** 2,
                       40 + 40 * np.cos(y / fx) ** 2], -1)
    img = np.where((y > horizon)[..., None], ground, sky)
    for _ in range(int(rng.integers(6, 16))):
        cx, cy, r = rng.uniform(0, w), rng.uniform(h * 0.3, h), rng.uniform(8, h / 5)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = rng.uniform(20, 240, 3)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Shot:
    """One photo of the roll: its bytes and when it was taken."""

    index: int
    day: int
    taken: datetime
    data: bytes


def shot(index: int, *, seed: int = 0, per_day: int = 5, size: tuple[int, int] = (480, 360),
         gps: tuple[float, float] | None = None, quality: int = 88) -> Shot:
    """Photo `index` of a roll with `per_day` photos a day (a new event every day)."""
    day, slot = divmod(index, per_day)
    taken = EPOCH + day * DAY_GAP + slot * SHOT_GAP
    pixels = scene(seed * 1_000_003 + index, size)
    meta = exif(make="Google", model="Pixel 8", orientation=1, taken=taken, offset="+00:00",
                gps=gps)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality, exif=meta)
    return Shot(index, day, taken, out.getvalue())
