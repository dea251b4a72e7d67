"""What a camera does to light, for the holdout roll. Pure functions on linear-light arrays.

Unlike the training roll (its own PSFs in `camera`: an iris, an uneven pan, tremor; then
gamma-space grain), every degradation here happens in linear light *before* the sensor:
point-spread functions of other causes (a straight motion line at a random angle, a
hand-shake random-walk trajectory, a defocus pillbox), then signal-dependent sensor noise
(shot + read noise, raised by the ISO gain), then a phone's sharpening. Sizes are in pixels
of the frame being made; the planner scales them from a 4000-pixel long side.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from ..light import convolve, to_linear, to_srgb  # noqa: F401 - the holdout builders use them
from ..light import normalise as _normalise
from ..light import splat as _splat

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def mean_luma(image: Image.Image) -> float:
    arr = np.asarray(image.convert("RGB"), dtype=np.float32)[::4, ::4] / 255.0
    return float((arr @ _LUMA).mean())


def laplacian_energy(image: Image.Image) -> float:
    """How much fine detail there is: the variance of the luminance Laplacian."""
    a = np.asarray(image.convert("L"), dtype=np.float32)
    lap = -4 * a[1:-1, 1:-1] + a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:]
    return float(lap.var())


# --- point-spread functions ------------------------------------------------------------------
def line_psf(length: float, angle_deg: float) -> np.ndarray:
    """A straight motion of `length` pixels: an anti-aliased segment (4x supersampled)."""
    length = max(1.0, length)
    size = int(math.ceil(length)) | 1
    ss = 4
    grid = np.zeros((size * ss, size * ss), np.float32)
    c = (size * ss - 1) / 2
    rad = math.radians(angle_deg)
    for t in np.linspace(-length / 2, length / 2, max(2, int(length * ss * 2))):
        x, y = c + t * ss * math.cos(rad), c + t * ss * math.sin(rad)
        _splat(grid, x, y, 1.0)
    return _normalise(grid.reshape(size, ss, size, ss).sum(axis=(1, 3)))


def shake_psf(extent: float, rng: np.random.Generator) -> np.ndarray:
    """Hand shake: a random walk with inertia (Boracchi & Foi's trajectory model), scaled so
    that its largest extent is `extent` pixels, the camera dwelling longer where it is slow."""
    steps = 240
    velocity = rng.normal(0, 1, 2)
    velocity /= np.linalg.norm(velocity) + 1e-9
    pos = np.zeros(2)
    points = [pos.copy()]
    for _ in range(steps):
        jolt = rng.normal(0, 0.35, 2) if rng.random() > 0.04 else rng.normal(0, 2.0, 2)
        velocity = 0.9 * velocity + jolt - 0.01 * pos
        pos = pos + velocity * 0.1
        points.append(pos.copy())
    track = np.array(points)
    track -= track.mean(axis=0)
    span = float(np.max(track.max(axis=0) - track.min(axis=0)))
    track *= max(1.0, extent) / max(span, 1e-6)
    size = int(math.ceil(max(1.0, extent))) + 3 | 1
    ss = 4
    grid = np.zeros((size * ss, size * ss), np.float32)
    c = (size * ss - 1) / 2
    for (x0, y0), (x1, y1) in zip(track[:-1], track[1:], strict=True):
        n = max(2, int(math.hypot(x1 - x0, y1 - y0) * ss * 2))
        for t in np.linspace(0, 1, n, endpoint=False):
            _splat(grid, c + (x0 + (x1 - x0) * t) * ss, c + (y0 + (y1 - y0) * t) * ss, 1.0 / n)
    return _normalise(grid.reshape(size, ss, size, ss).sum(axis=(1, 3)))


def disk_psf(diameter: float) -> np.ndarray:
    """Defocus: a pillbox (circle of confusion) of `diameter` pixels, anti-aliased edge."""
    r = max(0.5, diameter / 2)
    size = int(math.ceil(r)) * 2 + 1
    ss = 8
    coords = (np.arange(size * ss, dtype=np.float32) + 0.5) / ss - size / 2
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    inside = (xx**2 + yy**2 <= r * r).astype(np.float32)
    return _normalise(inside.reshape(size, ss, size, ss).sum(axis=(1, 3)))


# --- the sensor and the phone's processing ---------------------------------------------------
def sensor_noise(linear: np.ndarray, rng: np.random.Generator, iso_gain: float,
                 read: float = 1.5e-4) -> np.ndarray:
    """Shot noise (variance proportional to the signal) and read noise, both multiplied by
    the analogue gain of the ISO setting; colour noise is partly correlated across channels."""
    shot = np.float32(1e-4 * iso_gain)
    sigma = np.sqrt(np.clip(linear, 0, 1) * shot + np.float32((read * iso_gain) ** 2))
    own = rng.standard_normal(linear.shape, dtype=np.float32)
    common = own.mean(axis=2, keepdims=True)
    return linear + sigma * (own * np.float32(0.8) + common * np.float32(0.9))


def phone_sharpen(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    radius = float(rng.uniform(0.8, 1.6))
    percent = int(rng.integers(30, 90))
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=2))


def expose(linear: np.ndarray, ev: float) -> np.ndarray:
    return linear * np.float32(2.0**ev)


def exposure_for(linear: np.ndarray, target_luma: float) -> float:
    """The EV that brings the frame's mean sRGB luminance to `target_luma` (bisection)."""
    probe = linear[:: max(1, linear.shape[0] // 96), :: max(1, linear.shape[1] // 96)]
    lo, hi = -12.0, 4.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if mean_luma(to_srgb(expose(probe, mid))) > target_luma:
            hi = mid
        else:
            lo = mid
    return lo


# --- looks that stay good photos -------------------------------------------------------------
def haze(linear: np.ndarray, rng: np.random.Generator, density: float) -> np.ndarray:
    """Fog by Koschmieder's law: I = J t + A (1 - t), t = exp(-beta d), the distance growing
    towards the horizon (upper part of the frame), with slow patches of thicker fog."""
    h, w = linear.shape[:2]
    ys = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None]
    horizon = float(rng.uniform(0.35, 0.65))
    depth = np.clip(0.35 + (ys - (1 - horizon)) * 1.6, 0.25, 1.6)
    patches = rng.normal(0, 1, (max(2, h // 64), max(2, w // 64))).astype(np.float32)
    patch = np.asarray(Image.fromarray(patches).resize((w, h), Image.Resampling.BICUBIC))
    t = np.exp(-density * depth * (1 + 0.15 * patch))[..., None]
    air = np.array([0.78, 0.8, 0.84], dtype=np.float32) * float(rng.uniform(0.8, 1.0))
    return linear * t + air * (1 - t)


def monochrome(linear: np.ndarray, mix: tuple[float, float, float]) -> np.ndarray:
    """A black-and-white conversion with a colour filter's channel mix."""
    grey = linear @ np.array(mix, dtype=np.float32)
    return np.repeat(grey[..., None], 3, axis=2)


def soft_background(linear: np.ndarray, alpha: np.ndarray, diameter: float) -> np.ndarray:
    """A wide-aperture look: the background through a defocus disk, the subject (alpha 1)
    untouched, without the subject bleeding into the blur (normalised convolution)."""
    kernel = disk_psf(diameter)
    back = 1.0 - alpha[..., None]
    blurred = convolve(linear * back, kernel)
    weight = convolve(np.repeat(back, 3, axis=2), kernel)
    background = blurred / np.maximum(weight, 1e-3)
    return linear * alpha[..., None] + background * (1 - alpha[..., None])


def ellipse_alpha(shape: tuple[int, int], box: tuple[float, float, float, float],
                  feather: float) -> np.ndarray:
    h, w = shape
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2 * w, (y0 + y1) / 2 * h, (x1 - x0) / 2 * w, (y1 - y0) / 2 * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((xx - cx) / max(rx, 1)) ** 2 + ((yy - cy) / max(ry, 1)) ** 2)
    return np.clip((1 + feather - d) / (2 * feather), 0, 1).astype(np.float32)


def low_key(linear: np.ndarray, box: tuple[float, float, float, float], depth_ev: float
            ) -> np.ndarray:
    """Low-key lighting: the subject lit, the light falling off by `depth_ev` stops into a
    near-black background, deep shadows (studio or window light)."""
    h, w = linear.shape[:2]
    x0, y0, x1, y1 = box
    face = (x0 + 0.15 * (x1 - x0), y0, x1 - 0.15 * (x1 - x0), y0 + 0.6 * (y1 - y0))
    light = ellipse_alpha((h, w), face, 0.9)
    ev = -depth_ev * (1 - light)
    lit = linear * np.power(2.0, ev)[..., None].astype(np.float32)
    return lit * 0.9


def night_lights(linear: np.ndarray, ev: float) -> np.ndarray:
    """A night exposure: the scene darker, the bright light sources kept bright."""
    dark = expose(linear, ev)
    bright = np.clip((linear - 0.5) / 0.5, 0, 1)
    return dark * (1 - bright) + linear * bright


# --- sizes -------------------------------------------------------------------------------------
def crop_box(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = image.size
    return image.crop((round(box[0] * w), round(box[1] * h), round(box[2] * w),
                       round(box[3] * h)))


def downscale(image: Image.Image, long_side: int) -> Image.Image:
    """Never up: a holdout frame is at most as large as its source."""
    w, h = image.size
    if max(w, h) <= long_side:
        return image
    scale = long_side / max(w, h)
    return image.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                        Image.Resampling.LANCZOS)
