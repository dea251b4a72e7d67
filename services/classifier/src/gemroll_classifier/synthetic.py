"""Synthetic camera-roll files for tests: a textured 'photo' with camera EXIF, a phone
screenshot, a rendered receipt, burst variants, odd formats and broken bytes.

Deterministic (seeded); small enough to build in milliseconds.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def photo_array(seed: int = 0, size: tuple[int, int] = (1200, 900)) -> np.ndarray:
    """A natural-looking scene: sky gradient, hills, textured ground, sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    hue = rng.uniform(0, 2 * np.pi)
    ones = np.ones_like(x)
    sky = np.stack([(90 + 40 * np.cos(hue)) * ones, (140 + 30 * np.sin(hue)) * ones, 220 * ones],
                   -1) * (1 - 0.35 * y[..., None] / h)
    horizon = h * (0.45 + 0.08 * np.sin(x / w * rng.uniform(3, 9) + rng.uniform(0, 6)))
    ground = np.stack([60 + 50 * np.sin(x / 37 + y / 23) ** 2, 110 + 60 * np.sin(x / 11) ** 2,
                       50 + 30 * np.cos(y / 17) ** 2], -1)
    img = np.where((y > horizon)[..., None], ground, sky)
    for _ in range(12):  # a few objects with hard edges
        cx, cy, r = rng.uniform(0, w), rng.uniform(h * 0.4, h), rng.uniform(10, h / 6)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = rng.uniform(20, 240, 3)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def camera_exif(make: str = "Apple", model: str = "iPhone 15", orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:06:01 12:00:00"
    sub[0x829A] = 1 / 120
    return exif.tobytes()


def jpeg(arr: np.ndarray | Image.Image, *, exif: bytes | None = None, quality: int = 90) -> bytes:
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def photo_jpeg(seed: int = 0, size: tuple[int, int] = (1200, 900), **kw: object) -> bytes:
    return jpeg(photo_array(seed, size), exif=camera_exif(), **kw)  # type: ignore[arg-type]


def screenshot_png(seed: int = 0, size: tuple[int, int] = (1170, 2532)) -> bytes:
    """A phone UI: status bar, header, list rows with text, flat colours."""
    rng = np.random.default_rng(seed)
    w, h = size
    im = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(im)
    accent = tuple(int(v) for v in rng.integers(0, 200, 3))
    d.rectangle((0, 0, w, h // 20), fill=(245, 245, 245))
    d.rectangle((0, h // 20, w, h // 9), fill=accent)
    y = h // 8
    while y < h - 120:
        d.ellipse((40, y, 140, y + 100), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        for line in range(2):
            length = int(rng.integers(w // 3, w - 220))
            d.rectangle((180, y + 15 + line * 45, 180 + length, y + 40 + line * 45),
                        fill=(40, 40, 40) if line == 0 else (140, 140, 140))
        d.line((40, y + 125, w - 40, y + 125), fill=(225, 225, 225), width=2)
        y += 150
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def receipt_png(seed: int = 0, size: tuple[int, int] = (860, 1400)) -> bytes:
    """A rendered till receipt: white paper, lines of dark text blocks."""
    rng = np.random.default_rng(seed)
    w, h = size
    im = Image.new("RGB", size, (250, 250, 248))
    d = ImageDraw.Draw(im)
    y = 60
    while y < h - 60:
        x = 60
        while x < w - 120:
            word = int(rng.integers(30, 140))
            d.text((x, y), "X" * max(1, word // 12), fill=(20, 20, 20))
            d.rectangle((x, y + 4, x + word, y + 18), fill=(30, 30, 30))
            x += word + int(rng.integers(10, 30))
        y += int(rng.integers(32, 48))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def blurred(arr: np.ndarray, radius: float = 6.0) -> np.ndarray:
    return np.asarray(Image.fromarray(arr).filter(ImageFilter.GaussianBlur(radius)))


def darkened(arr: np.ndarray, factor: float = 0.08) -> np.ndarray:
    return (arr.astype(np.float32) * factor).astype(np.uint8)


def shifted(arr: np.ndarray, dx: int = 6, dy: int = 4, seed: int = 1) -> np.ndarray:
    """The same scene a moment later: a small shift and fresh sensor noise."""
    rng = np.random.default_rng(seed)
    out = np.roll(arr, (dy, dx), axis=(0, 1)).astype(np.float32) + rng.normal(0, 2, arr.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def heic(arr: np.ndarray, *, exif: bytes | None = None) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "HEIF", quality=80, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def cmyk_jpeg(arr: np.ndarray) -> bytes:
    return jpeg(Image.fromarray(arr).convert("CMYK"))


def gray16_png(arr: np.ndarray) -> bytes:
    gray = (np.asarray(Image.fromarray(arr).convert("L"), dtype=np.uint16) * 257)
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "PNG")  # uint16 -> mode I;16
    return buf.getvalue()


def animated_gif(arr: np.ndarray, frames: int = 3) -> bytes:
    ims = [Image.fromarray(np.roll(arr, i * 10, axis=1)).convert("P") for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0)
    return buf.getvalue()


def rgba_png(arr: np.ndarray) -> bytes:
    im = Image.fromarray(arr).convert("RGBA")
    im.putalpha(200)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def broken_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00garbage-not-really-a-jpeg" * 20
