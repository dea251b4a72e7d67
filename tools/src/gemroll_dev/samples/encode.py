"""Writing items as a phone would: JPEG/HEIC/WebP with camera EXIF, PNG, CMYK, 16-bit."""

from __future__ import annotations

import os
import struct
import zlib
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from .imaging import to_stored_orientation
from .manifest import ImageFormat
from .plan import Encoding, ExifSpec

_HEIF_REGISTERED = False


def exif_bytes(spec: ExifSpec, captured_at: datetime, orientation: int = 1) -> bytes:
    """EXIF as phones write it: camera, local capture time with offset, exposure, GPS."""
    exif = Image.Exif()
    local = f"{captured_at:%Y:%m:%d %H:%M:%S}"
    offset = captured_at.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else None
    exif[ExifTags.Base.Make] = spec.make
    exif[ExifTags.Base.Model] = spec.model
    exif[ExifTags.Base.Software] = spec.software
    exif[ExifTags.Base.DateTime] = local
    exif[ExifTags.Base.Orientation] = orientation
    if spec.exposure_s is None:  # a scanner: no capture details
        return exif.tobytes()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = local
    sub[ExifTags.Base.DateTimeDigitized] = local
    sub[ExifTags.Base.SubsecTimeOriginal] = f"{captured_at.microsecond // 1000:03d}"
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
        sub[ExifTags.Base.OffsetTime] = offset
    exposure = Fraction(spec.exposure_s).limit_denominator(10000)
    sub[ExifTags.Base.ExposureTime] = IFDRational(exposure.numerator, exposure.denominator)
    if spec.f_number:
        sub[ExifTags.Base.FNumber] = spec.f_number
    if spec.iso:
        sub[ExifTags.Base.ISOSpeedRatings] = spec.iso
    if spec.focal_mm:
        sub[ExifTags.Base.FocalLength] = spec.focal_mm
    if spec.lens:
        sub[ExifTags.Base.LensMake] = spec.make
        sub[ExifTags.Base.LensModel] = spec.lens
    sub[ExifTags.Base.ColorSpace] = 1
    if spec.gps is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        utc = captured_at.astimezone(UTC)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if spec.gps.lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(spec.gps.lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if spec.gps.lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(spec.gps.lon)
        gps[ExifTags.GPS.GPSTimeStamp] = (float(utc.hour), float(utc.minute), float(utc.second))
        gps[ExifTags.GPS.GPSDateStamp] = f"{utc:%Y:%m:%d}"
    return exif.tobytes()


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 2)
    return float(degrees), float(minutes), seconds


def write_image(path: Path, upright: Image.Image, encoding: Encoding,
                captured_at: datetime) -> tuple[int, int]:
    """Write `upright` (RGB) as the encoding says; returns the stored pixel size."""
    if encoding.format is not ImageFormat.jpeg and encoding.orientation != 1:
        raise ValueError("only JPEGs are written sideways; HEIF rotates on encoding")
    stored = to_stored_orientation(upright, encoding.orientation)
    exif = (exif_bytes(encoding.exif, captured_at, encoding.orientation)
            if encoding.exif else None)
    fmt, mode = encoding.format, encoding.pixel_mode
    if fmt is ImageFormat.png and mode == "RGB16":
        write_png16(path, _to_16bit(stored), exif)
    else:
        image = stored.convert(mode) if mode in ("L", "CMYK") else stored.convert("RGB")
        options: dict[str, object] = {}
        if exif:
            options["exif"] = exif
        if fmt is ImageFormat.jpeg:
            image.save(path, "JPEG", quality=encoding.quality, subsampling="4:2:0", **options)
        elif fmt is ImageFormat.heic:
            _register_heif()
            image.save(path, "HEIF", quality=encoding.quality,
                       enc_params={"preset": "ultrafast"}, **options)
        elif fmt is ImageFormat.webp:
            image.save(path, "WEBP", quality=encoding.quality, method=4, **options)
        else:
            image.save(path, "PNG", compress_level=6, **options)
    set_capture_mtime(path, captured_at)
    return stored.size


def set_capture_mtime(path: Path, captured_at: datetime) -> None:
    """Uploaders fall back on the file time when a file has no EXIF (screenshots)."""
    stamp = captured_at.timestamp()
    os.utime(path, (stamp, stamp))


def _to_16bit(image: Image.Image) -> np.ndarray:
    """16 bits per channel, as a raw editor exports; the low byte carries fine detail."""
    arr = np.asarray(image.convert("RGB"), dtype=np.uint16)
    rng = np.random.default_rng(int(arr[::97, ::89].sum()))
    return arr * 257 + rng.integers(0, 128, arr.shape, dtype=np.uint16)


def write_png16(path: Path, rgb16: np.ndarray, exif: bytes | None = None) -> None:
    """A 16-bit RGB PNG (Pillow cannot write 48-bit colour), with an optional eXIf chunk."""
    if rgb16.dtype != np.uint16 or rgb16.ndim != 3 or rgb16.shape[2] != 3:
        raise ValueError("expected an (H, W, 3) uint16 array")
    height, width = rgb16.shape[:2]
    rows = np.ascontiguousarray(rgb16, dtype=">u2").view(np.uint8).reshape(height, width * 6)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16,
                                                                2, 0, 0, 0))]
    if exif:
        parts.append(chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")))
    parts.append(chunk(b"IDAT", zlib.compress(raw, 4)))
    parts.append(chunk(b"IEND", b""))
    path.write_bytes(b"".join(parts))


def _register_heif() -> None:
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _HEIF_REGISTERED = True
