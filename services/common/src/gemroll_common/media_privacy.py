"""Metadata-free copies of images: what may leave the user's own storage (training, renditions).

`strip_metadata` re-writes an image without EXIF (location, serial numbers, owner and artist,
maker notes, thumbnails), XMP, IPTC and comments; the orientation is applied to the pixels and
the colour profile is kept. `find_metadata` is the check an auditor runs on the result.

Memory is bounded by the pixel limit: one decoded image at a time per call.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF photos from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - every service image installs it
    pillow_heif = None

MAX_PIXELS = 100_000_000
"""Refuse larger images rather than decode them (ingest refuses above 50 MP already)."""

_FORMATS = {"JPEG": ("JPEG", "image/jpeg"), "PNG": ("PNG", "image/png"),
            "WEBP": ("WEBP", "image/webp")}
"""Kept as they are; anything else (HEIC, HEIF, ...) is written as JPEG."""

_MARKERS = (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/", b"<x:xmpmeta", b"Photoshop 3.0")


class UnreadableImage(ValueError):
    """The source is not an image this module can read: a permanent failure for that item."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str


def strip_metadata(data: bytes) -> CleanImage:
    """The same picture, upright, with its colour profile and nothing else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableImage(f"{image.width}x{image.height} is over the pixel limit")
            source_format = image.format or ""
            icc = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
            turned = upright is not image
            out_format, content_type = _FORMATS.get(source_format, _FORMATS["JPEG"])
            options: dict[str, object] = {"icc_profile": icc} if icc else {}
            if out_format == "JPEG":
                upright = upright.convert("RGB") if upright.mode not in ("RGB", "L") else upright
                # Unturned JPEGs keep their quantisation tables: no visible loss. No comment
                # (COM) either: Pillow would write the source's again.
                options |= ({"quality": "keep"} if source_format == "JPEG" and not turned
                            else {"quality": 95}) | {"comment": b""}
                if options.get("quality") == "keep":
                    upright = image
            elif out_format == "WEBP":
                options |= {"quality": 95, "lossless": bool(image.info.get("lossless"))}
            buffer = io.BytesIO()
            upright.save(buffer, out_format, **options)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise UnreadableImage(f"cannot read the image: {type(exc).__name__}") from exc
    clean = buffer.getvalue()
    found = find_metadata(clean)
    if found:  # never hand out an image that still carries any of it
        raise UnreadableImage(f"metadata left after stripping: {', '.join(found)}")
    return CleanImage(clean, content_type)


def preview(source: str | bytes, long_side: int, quality: int = 82) -> CleanImage:
    """A small upright JPEG of the picture (longer side at most `long_side`), with no metadata
    at all; `source` is a path or the bytes. JPEGs are decoded reduced."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableImage(f"{image.width}x{image.height} is over the pixel limit")
            if image.format == "JPEG":
                image.draft("RGB", (long_side, long_side))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
            rgb = upright.convert("RGB")
            buffer = io.BytesIO()
            rgb.save(buffer, "JPEG", quality=quality, optimize=True, comment=b"")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise UnreadableImage(f"cannot read the image: {type(exc).__name__}") from exc
    small = buffer.getvalue()
    found = find_metadata(small)
    if found:
        raise UnreadableImage(f"metadata left in the preview: {', '.join(found)}")
    return CleanImage(small, "image/jpeg")


def find_metadata(data: bytes) -> list[str]:
    """What identifying metadata an image still carries (empty when it is clean)."""
    found: list[str] = []
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if exif.get_ifd(0x8825):
            found.append("gps")
        if any(tag in exif for tag in (0xA431, 0x013B, 0x8298, 0x927C)) or \
                exif.get_ifd(0x8769).get(0xA431) or exif.get_ifd(0x8769).get(0x927C):
            found.append("serial_owner_or_makernote")
        if len(exif):
            found.append("exif")
        if "xmp" in image.info or "XML:com.adobe.xmp" in image.info:
            found.append("xmp")
        if "exif" in image.info:
            found.append("exif_block")
        if image.info.get("comment"):
            found.append("comment")
    found += [f"marker:{m.decode('latin-1')[:12]}" for m in _MARKERS if m in data]
    return list(dict.fromkeys(found))


__all__ = ["CleanImage", "UnreadableImage", "find_metadata", "preview", "strip_metadata"]
