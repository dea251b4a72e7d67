"""Pixel operations that turn a real photo into a camera-roll item. Pure functions on images."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from . import camera
from .plan import PHONE_SHARPEN, Crop, Effect

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def crop(image: Image.Image, window: Crop) -> Image.Image:
    w, h = image.size
    box = (round(window.x0 * w), round(window.y0 * h), round(window.x1 * w), round(window.y1 * h))
    out = image.crop(box)
    return out.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if window.flip else out


def resize_long(image: Image.Image, long_side: int) -> Image.Image:
    w, h = image.size
    scale = long_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def apply_effect(image: Image.Image, effect: Effect, rng: np.random.Generator,
                 subject: tuple[float, float, float, float] = (0.2, 0.2, 0.8, 0.8),
                 ) -> Image.Image:
    """`subject`: the in-focus part (fractions of this image), kept by bokeh and low key."""
    long_side = max(image.size)
    if effect.gain != 1.0:
        image = gain(image, effect.gain)
    if effect.kind == "defocus":
        iris = camera.iris_psf(effect.amount * long_side, int(rng.integers(5, 10)), effect.angle)
        return camera.blur(image, iris)
    if effect.kind == "pan":
        pan = camera.pan_psf(effect.amount * long_side, effect.angle, float(rng.uniform(-0.8, 0.8)))
        return camera.blur(image, pan)
    if effect.kind == "shake":
        return camera.blur(image, camera.tremor_psf(effect.amount * long_side, rng))
    if effect.kind == "bokeh":
        return outside(image, subject, gaussian_blur(image, effect.amount * long_side))
    if effect.kind == "low_key":
        return outside(image, subject, underexpose(image, effect.amount, rng, noise_sigma=2.0,
                                                   floor=False))
    if effect.kind == "night":
        return night(image, effect.amount, rng)
    if effect.kind == "fog":
        return fog(image, effect.amount)
    if effect.kind == "gaussian_blur":
        return gaussian_blur(image, max(3.5, effect.amount * long_side))
    if effect.kind == "soft":
        return gaussian_blur(image, max(0.7, effect.amount * long_side))
    if effect.kind == "motion_blur":
        return motion_blur(image, max(12.0, effect.amount * long_side), effect.angle)
    if effect.kind == "dark":
        return underexpose(image, effect.amount, rng)
    return image


def camera_finish(image: Image.Image, grain_sigma: float, rng: np.random.Generator,
                  *, sharpen: tuple[float, int] | None = PHONE_SHARPEN) -> Image.Image:
    """What a phone's pipeline leaves: sensor grain, then an unsharp mask (radius, percent)."""
    image = add_grain(image, grain_sigma, rng)
    if sharpen:
        radius, percent = sharpen
        image = image.filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=2))
    return image


def gaussian_blur(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def motion_blur(image: Image.Image, length: float, angle_deg: float) -> Image.Image:
    """A straight camera shake of `length` pixels. Done at reduced scale: the result is junk."""
    factor = max(1.0, length / 16)
    small = image
    if factor > 1:
        small = image.resize((max(8, round(image.width / factor)),
                              max(8, round(image.height / factor))), Image.Resampling.BOX)
    steps = max(3, round(length / factor))
    arr = np.asarray(small, dtype=np.float32)
    pad = steps
    padded = np.pad(arr, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    out = np.zeros_like(arr)
    rad = math.radians(angle_deg)
    h, w = arr.shape[:2]
    for t in np.linspace(-steps / 2, steps / 2, steps):
        dx, dy = round(t * math.cos(rad)), round(t * math.sin(rad))
        out += padded[pad + dy: pad + dy + h, pad + dx: pad + dx + w]
    out /= steps
    blurred = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), image.mode)
    return blurred.resize(image.size, Image.Resampling.BICUBIC) if factor > 1 else blurred


def outside(image: Image.Image, subject: tuple[float, float, float, float],
            changed: Image.Image) -> Image.Image:
    """`changed` outside the subject box, `image` inside, with a soft edge."""
    w, h = image.size
    x0, y0, x1, y1 = subject
    mask = Image.new("L", (w, h), 0)
    pad = 0.04 * max(w, h)
    box = (round(x0 * w + pad), round(y0 * h + pad), round(x1 * w - pad), round(y1 * h - pad))
    if box[2] > box[0] and box[3] > box[1]:
        mask.paste(255, box)
    mask = mask.filter(ImageFilter.GaussianBlur(pad))
    return Image.composite(image.convert("RGB"), changed.convert("RGB"), mask)


def night(image: Image.Image, level: float, rng: np.random.Generator) -> Image.Image:
    """A night scene: exposure cut to a mean of `level`, but the brightest parts (lamps,
    windows, the sky's glow) stay bright, with the noise of a long exposure."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    luma = arr @ _LUMA
    cut = np.quantile(luma[::4, ::4], 0.97)
    lights = np.clip((luma - cut) / max(1e-3, 1.0 - cut), 0, 1)[..., None] ** 0.7
    dark = (arr ** 2.2 * level * 4.0) ** (1 / 2.2)
    out = (dark * (1 - lights) + arr * lights) * 255 + _noise(rng, arr.shape[:2], 3.0)
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


def fog(image: Image.Image, density: float) -> Image.Image:
    """Haze: the scene fades towards a bright grey; edges stay where they were."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32)
    h = arr.shape[0]
    depth = np.linspace(1.0, 0.6, h, dtype=np.float32)[:, None, None]  # more haze far (top)
    t = density * depth
    out = arr * (1 - t) + 215.0 * t
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


def gain(image: Image.Image, factor: float) -> Image.Image:
    arr = np.asarray(image, dtype=np.float32) * factor
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), image.mode)


def underexpose(image: Image.Image, target_luma: float, rng: np.random.Generator,
                noise_sigma: float = 5.0, *, floor: bool = True) -> Image.Image:
    """Exposure cut in linear light until the mean luminance is `target_luma` (0..1), plus
    the strong sensor noise and cold cast of a high-ISO shot."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    linear = arr**2.2
    probe = linear[:: max(1, arr.shape[0] // 128), :: max(1, arr.shape[1] // 128)]
    lo, hi = 0.0, 1.0
    for _ in range(24):  # bisection on the exposure factor
        k = (lo + hi) / 2
        if float(((k * probe) ** (1 / 2.2) @ _LUMA).mean()) > target_luma:
            hi = k
        else:
            lo = k
    dark = (lo * linear) ** (1 / 2.2) * np.array([0.94, 0.97, 1.06], dtype=np.float32)
    out = dark * 255 + _noise(rng, arr.shape[:2], noise_sigma)
    result = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")
    while floor and mean_luma(result) >= 0.12:  # noise clipped at black lifts the mean
        result = gain(result, 0.85)
    return result


def add_grain(image: Image.Image, sigma: float, rng: np.random.Generator) -> Image.Image:
    """Sensor grain of `sigma` 8-bit levels (integer arithmetic: 12 MP stays cheap)."""
    if sigma <= 0:
        return image
    arr = np.asarray(image.convert("RGB"), dtype=np.int16)
    h, w = arr.shape[:2]
    hh, hw = (h + 1) // 2, (w + 1) // 2
    luma = np.rint(rng.standard_normal((hh, 2, hw, 2, 1), dtype=np.float32) * sigma)
    chroma = np.rint(rng.standard_normal((hh, 1, hw, 1, 3), dtype=np.float32) * sigma * 0.35)
    noise = (luma.astype(np.int16) + chroma.astype(np.int16)).reshape(hh * 2, hw * 2, 3)
    arr += noise[:h, :w]
    np.clip(arr, 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Fine luminance noise shared by the channels plus weaker, blotchier colour noise."""
    h, w = shape[:2]
    hh, hw = (h + 1) // 2, (w + 1) // 2
    luma = rng.standard_normal((hh, 2, hw, 2, 1), dtype=np.float32) * sigma
    chroma = rng.standard_normal((hh, 1, hw, 1, 3), dtype=np.float32) * (sigma * 0.35)
    return (luma + chroma).reshape(hh * 2, hw * 2, 3)[:h, :w]  # colour noise in 2x2 blocks


def to_stored_orientation(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for an upright picture and an EXIF orientation."""
    transposes = {
        1: None,
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,  # viewers rotate 90 degrees clockwise to show it
        8: Image.Transpose.ROTATE_270,
    }
    if orientation not in transposes:
        raise ValueError(f"unsupported orientation {orientation}")
    method = transposes[orientation]
    return upright if method is None else upright.transpose(method)


def mean_luma(image: Image.Image) -> float:
    """Mean luminance in 0..1 of the (gamma-encoded) pixels."""
    arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return float((arr @ _LUMA).mean())


def laplacian_variance(image: Image.Image, long_side: int = 512) -> float:
    """Sharpness at a fixed analysis size: variance of the 4-neighbour Laplacian."""
    small = resize_long(image.convert("L"), long_side) if max(image.size) > long_side else (
        image.convert("L"))
    a = np.asarray(small, dtype=np.float32)
    lap = -4 * a[1:-1, 1:-1] + a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:]
    return float(lap.var())
