"""Images for the report: small JPEG copies next to the HTML, so it opens from disk anywhere."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

THUMB_PX = 480
PREVIEW_PX = 1200

_heif_registered = False


def _open(source: Path | bytes) -> Image.Image:
    global _heif_registered
    if not _heif_registered:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:  # HEIC thumbnails then fail with a clear PIL error
            pass
        _heif_registered = True
    return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def write_jpeg(source: Path | bytes, dest: Path, max_px: int = THUMB_PX) -> Path:
    """`source` (a file or encoded bytes) upright, fit into `max_px`, as JPEG at `dest`."""
    with _open(source) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        dest.parent.mkdir(parents=True, exist_ok=True)
        image.save(dest, "JPEG", quality=84, optimize=True)
    return dest


def write_placeholder(dest: Path, size: tuple[int, int] = (THUMB_PX, THUMB_PX * 9 // 16)) -> Path:
    """A plain grey JPEG where an item has no picture (a clip whose poster did not come)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (206, 210, 216)).save(dest, "JPEG", quality=80)
    return dest
