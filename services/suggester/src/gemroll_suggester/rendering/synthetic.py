"""Synthetic, photo-like scenes for tests, benchmarks and demos (no downloads needed).

A landscape: graded sky, sun, distant hills, sea or meadow below a (possibly tilted)
horizon, textured foreground and a subject; then the defects a camera might add: under- or
over-exposure, a colour cast, flat contrast, sensor noise.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


@dataclass(frozen=True)
class Scene:
    width: int = 960
    height: int = 640
    seed: int = 0
    horizon: float = 0.55
    """Height of the horizon's centre, as a fraction from the top."""
    tilt_degrees: float = 0.0
    """Visual counter-clockwise tilt of the horizon (a camera held askew)."""
    subject: tuple[float, float] | None = (0.5, 0.62)
    subject_size: float = 0.12
    hills: int = 2
    exposure_stops: float = 0.0
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    contrast: float = 1.0
    noise: float = 0.01


def _linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def render(scene: Scene) -> Image.Image:
    rng = np.random.default_rng(scene.seed)
    w, h = scene.width, scene.height
    hue = rng.uniform(-0.08, 0.08)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    slope = -math.tan(math.radians(scene.tilt_degrees))
    horizon_y = scene.horizon * h + slope * (xs - w / 2)
    above = ys < horizon_y

    t = np.clip(ys / np.maximum(horizon_y, 1), 0, 1)[..., None]
    sky_top = np.array([0.20 + hue, 0.40, 0.78])
    sky_low = np.array([0.78, 0.84 - hue, 0.92])
    sky = sky_top * (1 - t) + sky_low * t
    below_t = np.clip((ys - horizon_y) / max(h * (1 - scene.horizon), 1), 0, 1)[..., None]
    ground_near = np.array([0.30, 0.42 + hue, 0.18]) if scene.seed % 2 else np.array(
        [0.10, 0.32, 0.45 + hue])
    ground_far = ground_near * 0.7 + 0.15
    ground = ground_far * (1 - below_t) + ground_near * below_t
    coarse = rng.normal(0, 0.5, (h // 8 + 2, w // 8 + 2)).astype(np.float32)
    texture = np.asarray(Image.fromarray(coarse, "F").resize((w, h), Image.Resampling.BICUBIC))
    texture = (0.07 * texture)[..., None]
    image = np.where(above[..., None], sky, ground + texture)

    canvas = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    sun = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.08, 0.25) * h)
    r = 0.05 * min(w, h)
    draw.ellipse((sun[0] - r, sun[1] - r, sun[0] + r, sun[1] + r), fill=(255, 238, 200))
    for _ in range(scene.hills):  # distant hills sitting on the horizon
        cx = rng.uniform(0, w)
        span = rng.uniform(0.06, 0.14) * w
        peak = rng.uniform(0.03, 0.07) * h
        base = scene.horizon * h + slope * (cx - w / 2)
        shade = tuple(int(v) for v in rng.uniform(70, 110, 3))
        draw.polygon([(cx - span, base + slope * -span + 1), (cx, base - peak),
                      (cx + span, base + slope * span + 1)], fill=shade)
    if scene.subject is not None:
        sx, sy = scene.subject[0] * w, scene.subject[1] * h
        size = scene.subject_size * min(w, h)
        colour = tuple(int(v) for v in rng.uniform([150, 40, 40], [230, 110, 90]))
        draw.rounded_rectangle((sx - size * 0.35, sy - size * 0.2, sx + size * 0.35, sy + size),
                               radius=int(size * 0.15), fill=colour)
        draw.ellipse((sx - size * 0.25, sy - size * 0.7, sx + size * 0.25, sy - size * 0.2),
                     fill=(225, 180, 150))
    canvas = canvas.filter(ImageFilter.GaussianBlur(0.6))

    pixels = _linear(np.asarray(canvas, dtype=np.float64) / 255)
    pixels = pixels * np.asarray(scene.cast) * 2.0 ** scene.exposure_stops
    out = _srgb(pixels)
    out = (out - 0.5) * scene.contrast + 0.5
    out = out + rng.normal(0, scene.noise, out.shape)
    return Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def jpeg(scene: Scene, quality: int = 90) -> bytes:
    out = io.BytesIO()
    render(scene).save(out, "JPEG", quality=quality)
    return out.getvalue()
