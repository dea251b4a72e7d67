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


def encode_jpeg(image: Image.Image, quality: int = 88) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
