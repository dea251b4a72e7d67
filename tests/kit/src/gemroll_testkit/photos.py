"""Photos for tests, benchmarks and the soak: pixels, phone metadata, encoded bytes.

* pixels: `noise` (distinct every call, hardly compressible), `scene` (a photo-like
  landscape per seed), `Scene`/`render` (a landscape with the defects a camera adds), `hills`
  (a flat-coloured drawing), a phone `screenshot_png`, a `receipt_png`, and
  `blurred`/`darkened`/`shifted` variants;
* metadata: `exif` as phones write it, `camera_exif`, `srgb_icc`;
* bytes: `jpeg`, `png`, `webp`, `heic` (random pixels when none are given), `phone_jpeg`
  (everything private a phone writes), odd formats, and broken files;
* `shot`: photo `index` of a deterministic camera roll, grouped into days.

Everything is made at test time (nothing checked in); seeded functions are deterministic.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational

pillow_heif.register_heif_opener()

Pixels = Image.Image | np.ndarray
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
DEFAULT_SIZE = (96, 64)


# -- pixels ----------------------------------------------------------------------------------
def noise(width: int, height: int) -> Image.Image:
    """High-entropy RGB content (random pixels): distinct every call, hardly compressible."""
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def scene(seed: int = 0, size: tuple[int, int] = (1200, 900)) -> np.ndarray:
    """Sky, a horizon, textured ground and a few hard-edged objects, with sensor noise.
    Different seeds give visibly different scenes (no accidental near-duplicates)."""
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
class Scene:
    """A landscape: graded sky, sun, distant hills, sea or meadow below a (possibly tilted)
    horizon, textured foreground and a subject; then what a camera might add: under- or
    over-exposure, a colour cast, flat contrast, sensor noise."""

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


def hills(seed: int = 0, size: tuple[int, int] = (960, 720)) -> Image.Image:
    """A colourful, sharp drawing (gradient sky, sun, hills), different per seed."""
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    hue = (seed * 67) % 255
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(60 + 150 * t), int(120 + 60 * t), 255 - hue // 3))
    draw.ellipse([w * 0.65, h * 0.1, w * 0.8, h * 0.3], fill=(255, 220, 90))
    for i in range(4):
        top = int(h * (0.55 + 0.08 * i))
        draw.polygon([(0, h), (0, top), (w * (0.3 + 0.2 * i), top - 60 - 20 * seed % 50),
                      (w, top + 30), (w, h)], fill=(30 + 20 * i, 110 + hue // 4 - 15 * i, 50))
    return image


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
    return png(im)


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
    return png(im)


def blurred(arr: np.ndarray, radius: float = 6.0) -> np.ndarray:
    return np.asarray(Image.fromarray(arr).filter(ImageFilter.GaussianBlur(radius)))


def darkened(arr: np.ndarray, factor: float = 0.08) -> np.ndarray:
    return (arr.astype(np.float32) * factor).astype(np.uint8)


def shifted(arr: np.ndarray, dx: int = 6, dy: int = 4, seed: int = 1) -> np.ndarray:
    """The same scene a moment later: a small shift and fresh sensor noise."""
    rng = np.random.default_rng(seed)
    out = np.roll(arr, (dy, dx), axis=(0, 1)).astype(np.float32) + rng.normal(0, 2, arr.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# -- metadata --------------------------------------------------------------------------------
def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10_000)
    return IFDRational(degrees), IFDRational(minutes), IFDRational(seconds, 10_000)


def exif(
    *, make: str | None = None, model: str | None = None, orientation: int | None = None,
    taken: datetime | str | None = None, offset: str | None = None,
    gps: tuple[float, float] | None = None, exposure_s: float | None = None,
    serial: str | None = None, owner: str | None = None, maker_note: bytes | None = None,
) -> Image.Exif:
    """EXIF as phones write it. `taken` is local time (EXIF has no zone; `offset` adds one);
    `owner` is the artist and the copyright holder."""
    data = Image.Exif()
    if make:
        data[0x010F] = make
    if model:
        data[0x0110] = model
    if orientation:
        data[0x0112] = orientation
    if owner:
        data[0x013B], data[0x8298] = owner, f"(c) {owner}"
    if taken:
        text = taken if isinstance(taken, str) else taken.strftime("%Y:%m:%d %H:%M:%S")
        data.get_ifd(_EXIF_IFD)[0x9003] = text
        if offset:
            data.get_ifd(_EXIF_IFD)[0x9011] = offset
    if exposure_s:
        data.get_ifd(_EXIF_IFD)[0x829A] = exposure_s
    if serial:
        data.get_ifd(_EXIF_IFD)[0xA431] = serial  # body serial number
    if maker_note:
        data.get_ifd(_EXIF_IFD)[0x927C] = maker_note
    if gps:
        lat, lon = gps
        ifd = data.get_ifd(_GPS_IFD)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(lat)
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(lon)
    return data


def camera_exif(make: str = "Apple", model: str = "iPhone 15", orientation: int = 1
                ) -> Image.Exif:
    return exif(make=make, model=model, orientation=orientation, taken="2024:06:01 12:00:00",
                exposure_s=1 / 120)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# -- bytes -----------------------------------------------------------------------------------
def _image(pixels: Pixels | None, size: tuple[int, int]) -> Image.Image:
    if pixels is None:
        return noise(*size)
    return pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)


def encode(pixels: Pixels, fmt: str, *, exif: Image.Exif | bytes | None = None,
           **options: object) -> bytes:
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    _image(pixels, DEFAULT_SIZE).save(out, fmt, **options)
    return out.getvalue()


def jpeg(pixels: Pixels | None = None, *, size: tuple[int, int] = DEFAULT_SIZE,
         exif: Image.Exif | bytes | None = None, quality: int = 90, **options: object) -> bytes:
    """JPEG bytes of `pixels` (random ones of `size` when None)."""
    return encode(_image(pixels, size), "JPEG", exif=exif, quality=quality, **options)


def png(pixels: Pixels | None = None, *, size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    return encode(_image(pixels, size), "PNG")


def webp(pixels: Pixels | None = None, *, size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    return encode(_image(pixels, size), "WEBP", quality=80)


def heic(pixels: Pixels | None = None, *, size: tuple[int, int] = DEFAULT_SIZE,
         exif: Image.Exif | bytes | None = None) -> bytes:
    return encode(_image(pixels, size), "HEIF", exif=exif, quality=80)


def avif(pixels: Pixels | None = None, *, size: tuple[int, int] = DEFAULT_SIZE,
         exif: Image.Exif | bytes | None = None) -> bytes:
    return encode(_image(pixels, size), "AVIF", exif=exif, quality=70)


def photo_jpeg(seed: int = 0, size: tuple[int, int] = (1200, 900), **options: object) -> bytes:
    """A photo-like `scene` with camera EXIF."""
    return jpeg(scene(seed, size), exif=camera_exif(), **options)  # type: ignore[arg-type]


PHONE_MAKE = "PhoneMaker"
PHONE_SERIAL = "SERIAL-0042"
PHONE_OWNER = "Alice Example"
PHONE_MAKER_NOTE = b"maker-note-secret"
PHONE_GPS = (48.85670, 2.35208)
PHONE_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
             b'02/22-rdf-syntax-ns#"><rdf:Description photoshop:City="Paris" '
             b'exif:GPSLatitude="48,51.4N" xmlns:exif="http://ns.adobe.com/exif/1.0/"/>'
             b'</rdf:RDF></x:xmpmeta>')


def phone_jpeg(pixels: Pixels | bytes | None = None, *, size: tuple[int, int] = (320, 240),
               orientation: int = 6, quality: int = 90) -> bytes:
    """A JPEG with everything private a phone writes: exact GPS, make, model, body serial,
    maker note, owner, XMP (a city and the GPS again), a comment naming the serial and an
    sRGB profile; rotated by `orientation` (6: turn 90° to display). `pixels` may be an
    encoded image; default a flat colour of `size`."""
    if isinstance(pixels, bytes):
        pixels = Image.open(io.BytesIO(pixels)).convert("RGB")
    image = Image.new("RGB", size, (180, 120, 60)) if pixels is None else _image(pixels, size)
    tags = exif(make=PHONE_MAKE, model="Phone 12", orientation=orientation, gps=PHONE_GPS,
                serial=PHONE_SERIAL, owner=PHONE_OWNER, maker_note=PHONE_MAKER_NOTE)
    return jpeg(image, exif=tags, quality=quality, xmp=PHONE_XMP, icc_profile=srgb_icc(),
                comment=f"serial {PHONE_SERIAL}".encode())


def cmyk_jpeg(arr: np.ndarray) -> bytes:
    return jpeg(Image.fromarray(arr).convert("CMYK"))


def gray16_png(arr: np.ndarray) -> bytes:
    gray = (np.asarray(Image.fromarray(arr).convert("L"), dtype=np.uint16) * 257)
    return png(Image.fromarray(gray))  # uint16 -> mode I;16


def animated_gif(arr: np.ndarray, frames: int = 3) -> bytes:
    ims = [Image.fromarray(np.roll(arr, i * 10, axis=1)).convert("P") for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0)
    return buf.getvalue()


def rgba_png(arr: np.ndarray) -> bytes:
    im = Image.fromarray(arr).convert("RGBA")
    im.putalpha(200)
    return png(im)


def broken_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00garbage-not-really-a-jpeg" * 20


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def bomb_png(pixels: int) -> bytes:
    """A tiny PNG that would decode to `pixels` pixels (a square, 1 bit per pixel)."""
    side = math.isqrt(pixels) + 1
    return png(Image.new("1", (side, side)))


def jpeg_of_size(target_bytes: int) -> bytes:
    """A high-entropy JPEG of roughly `target_bytes` (about 4.1 bytes per pixel at q=100 4:4:4;
    about 0.9 at q=90 4:2:0)."""
    if target_bytes >= 8 * 1024 * 1024:
        side = math.isqrt(int(target_bytes / 4.15))
        return jpeg(size=(side, side), quality=100, subsampling=0)
    pixels = int(target_bytes / 0.9)
    width = math.isqrt(pixels * 4 // 3)
    return jpeg(size=(width, pixels // width), quality=90)


# -- a camera roll ---------------------------------------------------------------------------
EPOCH = datetime(2025, 5, 3, 9, 0, tzinfo=UTC)
DAY_GAP = timedelta(days=1)
"""Events are one day apart: far beyond the suggester's gap, so each day is one event."""
SHOT_GAP = timedelta(minutes=7)


@dataclass(frozen=True)
class Shot:
    """One photo of the roll: its bytes and when it was taken."""

    index: int
    day: int
    taken: datetime
    data: bytes


def shot(index: int, *, seed: int = 0, per_day: int = 5, size: tuple[int, int] = (480, 360),
         gps: tuple[float, float] | None = None, quality: int = 88) -> Shot:
    """Photo `index` of a roll with `per_day` photos a day (a new event every day). Every
    (seed, index) gives the same bytes; small by default, so 2,000 classify quickly on CPU."""
    day, slot = divmod(index, per_day)
    taken = EPOCH + day * DAY_GAP + slot * SHOT_GAP
    pixels = scene(seed * 1_000_003 + index, size)
    meta = exif(make="Google", model="Pixel 8", orientation=1, taken=taken, offset="+00:00",
                gps=gps)
    return Shot(index, day, taken, jpeg(pixels, exif=meta, quality=quality))
