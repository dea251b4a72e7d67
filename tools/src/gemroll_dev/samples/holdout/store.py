"""Writing a holdout item: JPEG (RGB, L, CMYK, with an ICC profile), HEIC with any of the
eight EXIF orientations, AVIF, PNG and 16-bit PNG; camera EXIF as the phone writes it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from ..encode import exif_bytes, set_capture_mtime, write_png16
from . import icc
from .recipes import Encoding

# The stored pixels of an upright picture for each EXIF orientation (the inverse of what a
# viewer applies: `ImageOps.exif_transpose` of the stored pixels gives the upright picture).
_STORE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_heif_ready = False


def stored(upright: Image.Image, orientation: int) -> Image.Image:
    method = _STORE[orientation]
    return upright if method is None else upright.transpose(method)


def pixel_mode(enc: Encoding) -> str:
    if enc.format == "png16":
        return "RGB16"
    return enc.mode


def write_file(path: Path, upright: Image.Image, enc: Encoding, captured_at: datetime
               ) -> tuple[int, int]:
    """Write `upright` as the encoding says; returns the stored pixel size."""
    image = stored(upright.convert("RGB"), enc.orientation)
    exif = exif_bytes(enc.exif, captured_at, enc.orientation) if enc.exif else None
    options: dict[str, object] = {"exif": exif} if exif else {}
    if enc.format == "png16":
        write_png16(path, _sixteen_bits(image), exif)
    elif enc.format == "jpeg":
        if enc.icc:
            image = icc.convert_to(image, enc.icc)
            options["icc_profile"] = icc.profile_bytes(enc.icc)
        if enc.mode == "L":
            image = image.convert("L")
        elif enc.mode == "CMYK":
            image = image.convert("CMYK")
        else:
            options["subsampling"] = enc.subsampling
        image.save(path, "JPEG", quality=enc.quality, **options)
    elif enc.format == "heic":
        _register_heif()
        image.save(path, "HEIF", quality=enc.quality, enc_params={"preset": "ultrafast"},
                   **options)
    elif enc.format == "avif":
        image.save(path, "AVIF", quality=enc.quality, speed=8, **options)
    else:
        (image.convert("L") if enc.mode == "L" else image).save(path, "PNG", compress_level=6,
                                                                **options)
    set_capture_mtime(path, captured_at)
    return image.size


def _sixteen_bits(image: Image.Image) -> np.ndarray:
    """16 bits per channel as a raw converter exports them: the 8-bit values widened, with
    the low bits carrying a smooth dither rather than zeros."""
    arr = np.asarray(image, dtype=np.float32) * 257.0
    seed = int(np.asarray(image)[::61, ::53].sum())
    dither = np.random.default_rng(seed).normal(0, 64, arr.shape).astype(np.float32)
    return np.clip(arr + dither, 0, 65535).astype(np.uint16)


def _register_heif() -> None:
    global _heif_ready
    if not _heif_ready:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_ready = True
