"""Sample photos for the ingest tests and benchmark: every call makes distinct bytes.

JPEG, PNG, WebP and HEIC (pillow-heif), with optional EXIF (camera, time, orientation, GPS),
plus broken ones: truncated files and decompression bombs.
"""

from __future__ import annotations

import io
import math
import os
from datetime import datetime

import pillow_heif
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

pillow_heif.register_heif_opener()

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825


def noise(width: int, height: int) -> Image.Image:
    """High-entropy RGB content (random pixels): distinct every call, hardly compressible."""
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 10_000)
    return IFDRational(degrees), IFDRational(minutes), IFDRational(seconds, 10_000)


def exif(
    *, make: str | None = None, model: str | None = None, orientation: int | None = None,
    taken: datetime | str | None = None, offset: str | None = None,
    gps: tuple[float, float] | None = None,
) -> Image.Exif:
    """EXIF as phones write it. `taken` is local time (EXIF has no zone; `offset` adds one)."""
    data = Image.Exif()
    if make:
        data[0x010F] = make
    if model:
        data[0x0110] = model
    if orientation:
        data[0x0112] = orientation
    if taken:
        text = taken if isinstance(taken, str) else taken.strftime("%Y:%m:%d %H:%M:%S")
        data.get_ifd(_EXIF_IFD)[0x9003] = text
        if offset:
            data.get_ifd(_EXIF_IFD)[0x9011] = offset
    if gps:
        lat, lon = gps
        ifd = data.get_ifd(_GPS_IFD)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(lat)
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(lon)
    return data


def encode(
    image: Image.Image, fmt: str, exif_data: Image.Exif | None = None, **options: object
) -> bytes:
    out = io.BytesIO()
    if exif_data is not None:
        options["exif"] = exif_data
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(width: int = 96, height: int = 64, *, exif_data: Image.Exif | None = None,
         quality: int = 90) -> bytes:
    return encode(noise(width, height), "JPEG", exif_data, quality=quality)


def png(width: int = 96, height: int = 64) -> bytes:
    return encode(noise(width, height), "PNG")


def webp(width: int = 96, height: int = 64) -> bytes:
    return encode(noise(width, height), "WEBP", quality=80)


def heic(width: int = 96, height: int = 64, *, exif_data: Image.Exif | None = None) -> bytes:
    return encode(noise(width, height), "HEIF", exif_data, quality=80)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def bomb_png(pixels: int) -> bytes:
    """A tiny PNG that would decode to `pixels` pixels (a square, 1 bit per pixel)."""
    side = math.isqrt(pixels) + 1
    return encode(Image.new("1", (side, side)), "PNG")


def jpeg_of_size(target_bytes: int) -> bytes:
    """A high-entropy JPEG of roughly `target_bytes` (about 4.1 bytes per pixel at q=100 4:4:4;
    about 0.9 at q=90 4:2:0)."""
    if target_bytes >= 8 * 1024 * 1024:
        side = math.isqrt(int(target_bytes / 4.15))
        return encode(noise(side, side), "JPEG", quality=100, subsampling=0)
    pixels = int(target_bytes / 0.9)
    width = math.isqrt(pixels * 4 // 3)
    return encode(noise(width, pixels // width), "JPEG", quality=90)
