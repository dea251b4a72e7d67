"""Decoding and encoding images (bytes in, bytes out; no I/O)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 200_000_000
"""Refuse decompression bombs beyond 200 MP (larger than any phone camera)."""


class UnreadableImage(ValueError):
    """The bytes are not an image Pillow can decode."""


def decode(data: bytes, max_side: int | None = None) -> Image.Image:
    """RGB image with EXIF orientation applied; JPEGs are decoded reduced when `max_side` allows.

    The result's longer side is at most `max_side` (when given).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from exc
    if max_side and max(image.size) > max_side:
        image = downscale(image, max_side)
    return image


def downscale(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def rgb_icc_profile(data: bytes) -> bytes | None:
    """The original's ICC colour profile, when it describes RGB (a CMYK or grey profile would
    be wrong for the RGB rendition); None when there is none or the bytes are unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            icc = image.info.get("icc_profile")
            return icc if icc and image.mode == "RGB" else None
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return None


def encode_jpeg(image: Image.Image, quality: int = 88, icc_profile: bytes | None = None) -> bytes:
    """A JPEG with no metadata but the colour profile: no EXIF (so no GPS, serial numbers,
    maker notes), no XMP, no comment, whatever the source image carried."""
    out = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    image.convert("RGB").save(out, "JPEG", quality=quality, comment="", **extra)
    return out.getvalue()
