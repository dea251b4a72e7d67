"""Decoding with Pillow: any supported file to an analysis-sized RGB array plus metadata.

JPEGs are decoded at reduced scale (DCT scaling through `draft`), EXIF orientation is applied,
HEIC/HEIF come through pillow-heif, and odd modes (CMYK, 16-bit, float, palette, alpha) are
brought to 8-bit RGB. Animated files give their first frame.
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache
from typing import Any

import imagehash
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

from ..domain.detail import DetailStats, detail_stats
from ..domain.features import MediaFacts, Prepared, Unreadable
from ..domain.pixels import pixel_stats

pillow_heif.register_heif_opener()
_SRGB = ImageCms.createProfile("sRGB")

MODEL_SIZE = 224
# Sharpness is measured at a viewing scale of at most DETAIL_LONG px long side (smaller files
# at their own size): JPEGs are decoded at the smallest DCT scale that reaches DETAIL_MIN
# (12 MP at 1/2), then reduced. One scale for every file keeps a photo's own softness from
# counting against it just because it is large.
DETAIL_MIN, DETAIL_LONG = 1400, 2048
_EXIF_IFD = 0x8769
_MAKE, _MODEL, _SOFTWARE, _ORIENTATION = 0x010F, 0x0110, 0x0131, 0x0112
_CAPTURE_TAGS = (0x829A, 0x829D, 0x8827, 0x9003, 0x920A)  # exposure, f-number, ISO, date, focal
_DRAFTABLE = {"JPEG", "MPO"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text[:200] or None


def read_facts(im: Image.Image) -> tuple[MediaFacts, int]:
    """Metadata from the header (no pixel decoding), and the EXIF orientation."""
    try:
        exif = im.getexif()
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - broken EXIF is common and harmless
        exif, sub = {}, {}
    orientation = exif.get(_ORIENTATION, 1) if isinstance(exif.get(_ORIENTATION, 1), int) else 1
    width, height = im.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    facts = MediaFacts(
        width=width, height=height, file_format=(im.format or "unknown").upper(),
        camera_make=_text(exif.get(_MAKE)), camera_model=_text(exif.get(_MODEL)),
        has_capture_exif=any(tag in sub for tag in _CAPTURE_TAGS),
        software=_text(exif.get(_SOFTWARE)), frames=int(getattr(im, "n_frames", 1) or 1),
    )
    return facts, orientation


def _to_rgb(im: Image.Image) -> Image.Image:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") else max(float(arr.max()), 1.0)
        gray = np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode != "RGB":
        return im.convert("RGB")
    return im


@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes) -> ImageCms.ImageCmsTransform | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return None
        return ImageCms.buildTransform(source, _SRGB, "RGB", "RGB")
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return None  # a broken profile: the pixels as they are


def to_srgb(rgb: Image.Image, icc: bytes | None) -> Image.Image:
    """The analysis image in sRGB when the file carries another profile (Display P3 on
    iPhones, Adobe RGB from cameras); only the small image is converted."""
    if not icc or rgb.mode != "RGB":
        return rgb
    transform = _srgb_transform(bytes(icc))
    return ImageCms.applyTransform(rgb, transform) if transform is not None else rgb


def model_input(rgb: Image.Image, size: int = MODEL_SIZE) -> np.ndarray:
    """Resize the short side to `size` and crop the centre square (torchvision's recipe)."""
    w, h = rgb.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    resized = rgb.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(resized.crop((left, top, left + size, top + size)))


def perceptual_hash(rgb: Image.Image) -> int:
    return int(str(imagehash.phash(rgb)), 16)


def finish(facts: MediaFacts, rgb: Image.Image, model_in: Any = None,
           detail: DetailStats | None = None) -> Prepared:
    """Statistics, hash and (unless given) model input of an analysis-sized RGB image."""
    arr = np.asarray(rgb)
    return Prepared(facts=facts, stats=pixel_stats(arr), phash=perceptual_hash(rgb), rgb=arr,
                    model_input=model_in if model_in is not None else model_input(rgb),
                    detail=detail)


def measure_detail(image: Image.Image, stored_long_side: int) -> DetailStats:
    """Sharpness at the viewing scale (see DETAIL_LONG)."""
    luma = image.convert("L")
    w, h = luma.size
    if max(w, h) > DETAIL_LONG:
        scale = DETAIL_LONG / max(w, h)
        luma = luma.resize((max(8, round(w * scale)), max(8, round(h * scale))),
                           Image.Resampling.BILINEAR, reducing_gap=2.0)
    return detail_stats(np.asarray(luma), max(luma.size) / max(1, stored_long_side))


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise Unreadable("empty", "the object is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unreadable("too_large", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise Unreadable("unknown_format", "not an image format we can read") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure means unreadable
        raise Unreadable("decode_error", f"{type(exc).__name__}: {exc}") from exc
    w, h = im.size
    if w < 1 or h < 1 or w * h > max_pixels:
        raise Unreadable("too_large", f"{w}x{h} exceeds {max_pixels} pixels")
    return im


def decode(data: bytes, *, analysis_long_side: int = 448, detail_long_side: int = DETAIL_MIN,
           max_pixels: int = 250_000_000, full_decode_max_pixels: int = 120_000_000) -> Prepared:
    """Bytes -> Prepared, or `Unreadable`. Runs in a worker thread (Pillow releases the GIL)."""
    im = open_image(data, max_pixels)
    try:
        facts, orientation = read_facts(im)
        if im.format not in _DRAFTABLE and im.size[0] * im.size[1] > full_decode_max_pixels:
            raise Unreadable("too_large", f"{im.format} {im.size} too large to decode fully")
        if facts.frames > 1:
            im.seek(0)
        stored_long = max(im.size)
        if im.format in _DRAFTABLE:
            w, h = im.size
            scale = max(analysis_long_side, detail_long_side) / max(w, h)
            if scale < 1:
                im.draft(im.mode, (max(1, int(w * scale)), max(1, int(h * scale))))
        im.load()
        rgb = _to_rgb(im)
        detail = measure_detail(rgb, stored_long) if detail_long_side else None
        factor = max(rgb.size) // analysis_long_side
        if factor >= 2:
            rgb = rgb.reduce(factor)
        rgb.thumbnail((analysis_long_side, analysis_long_side), Image.Resampling.BILINEAR,
                      reducing_gap=None)
        rgb = to_srgb(rgb, im.info.get("icc_profile"))
        if orientation in _TRANSPOSE:
            rgb = rgb.transpose(_TRANSPOSE[orientation])
        if rgb.width < 8 or rgb.height < 8:
            raise Unreadable("too_small", f"{rgb.size} is too small to judge")
        return finish(facts, rgb, detail=detail)
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt, unsupported sub-format
        raise Unreadable("decode_error", f"{type(exc).__name__}: {exc}") from exc
    finally:
        im.close()
