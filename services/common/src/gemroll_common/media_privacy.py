"""Metadata-free copies of images: what may leave the user's own storage (training, renditions).

`strip_metadata` re-writes an image without EXIF (location, serial numbers, owner and artist,
maker notes, thumbnails), XMP, IPTC and comments; the orientation is applied to the pixels and
the colour profile is kept. An upright JPEG loses its metadata losslessly and without decoding:
its segments are copied but for the metadata ones, and everything after the end of the image
(MPF pictures, appended motion-photo video) is cut off. `find_metadata` is the check an
auditor runs on every result.

Memory is bounded by the pixel limit: one decoded image at a time per call.
"""

from __future__ import annotations

import contextlib
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


_READ_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError)
"""What Pillow raises for bytes it cannot read as an image."""


class UnreadableImage(ValueError):
    """The source is not an image this module can read: a permanent failure for that item."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str


_KEPT_APP_SEGMENTS = {0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
"""APPn segments that describe colour, not the photo: the ICC profile and Adobe's colour
transform (CMYK/YCCK). JFIF is kept only without a thumbnail; every other APPn goes (EXIF,
XMP, IPTC/Photoshop, MPF, maker segments)."""
_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD9)})


def _kept_segment(marker: int, segment: bytes) -> bool:
    if marker == 0xFE:  # comment
        return False
    if marker == 0xE0:  # JFIF without a thumbnail (x and y thumbnail sizes 0)
        return segment[4:9] == b"JFIF\x00" and len(segment) >= 18 and segment[16:18] == b"\0\0"
    if 0xE1 <= marker <= 0xEF:
        prefix = _KEPT_APP_SEGMENTS.get(marker)
        return prefix is not None and segment[4:4 + len(prefix)] == prefix
    return True


def _end_of_scan(data: bytes, i: int) -> int | None:
    """Where the entropy-coded data starting at `i` ends: the next marker that is neither a
    stuffed byte nor a restart marker (None when the data is cut short)."""
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= len(data):
            return None
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            i = j + 2
        elif following == 0xFF:  # fill byte before a marker
            i = j + 1
        else:
            return j


def _jpeg_parts(data: bytes) -> tuple[list[tuple[int, int, int]], int] | None:
    """The JPEG's segments in order (marker, start, end offsets; a scan's entropy-coded data
    follows its header as marker 0) and where its end-of-image marker ends; None when its
    structure is not plain JPEG. `data` may be an mmap: nothing of it is copied."""
    if data[:2] != b"\xff\xd8":
        return None
    parts: list[tuple[int, int, int]] = []
    i, n, scanned = 2, len(data), False
    while i + 1 < n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xD9:
            return (parts, i + 2) if scanned else None
        if marker in _NO_LENGTH or i + 4 > n:
            return None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2 or i + 2 + length > n:
            return None
        parts.append((marker, i, i + 2 + length))
        i += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            scanned = True
            end = _end_of_scan(data, i)
            if end is None:
                return None
            parts.append((0, i, end))
            i = end
    return None


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """The JPEG's own bytes without its metadata segments, up to its end-of-image marker; None
    when its structure is not plain JPEG (then it is decoded and written again instead)."""
    found = _jpeg_parts(data)
    if found is None:
        return None
    segments = ((marker, data[start:end]) for marker, start, end in found[0])
    kept = (b for marker, b in segments if marker == 0 or _kept_segment(marker, b))
    return b"\xff\xd8" + b"".join(kept) + b"\xff\xd9"


def appended_video(data: bytes) -> int | None:
    """Where the clip of a motion photo starts: an MP4/MOV appended after the JPEG's end (as
    Google's and Samsung's cameras write them, Samsung behind a `MotionPhoto_Data` marker);
    None for a plain JPEG."""
    found = _jpeg_parts(data)
    if found is None:
        return None
    end = found[1]
    at = data.find(b"ftyp", end)
    while at >= end + 4:
        box = int.from_bytes(data[at - 4:at], "big")
        if 16 <= box <= 4096 and at - 4 + box <= len(data):
            return at - 4
        at = data.find(b"ftyp", at + 1)
    return None


def strip_metadata(data: bytes) -> CleanImage:
    """The same picture, upright, with its colour profile and nothing else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableImage(f"{image.width}x{image.height} is over the pixel limit")
            source_format = image.format or ""
            if source_format in ("JPEG", "MPO") and image.getexif().get(0x0112, 1) == 1:
                lossless = jpeg_without_metadata(data)
                if lossless is not None:
                    with contextlib.suppress(UnreadableImage):  # else: decoded and re-written
                        return _checked(lossless, "image/jpeg", image.size)
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
    except _READ_ERRORS as exc:
        raise UnreadableImage(f"cannot read the image: {type(exc).__name__}") from exc
    return _checked(buffer.getvalue(), content_type)


def _checked(clean: bytes, content_type: str, size: tuple[int, int] | None = None
             ) -> CleanImage:
    """Never hand out an image that still carries any metadata (or is not the picture)."""
    try:
        found = find_metadata(clean)
        with Image.open(io.BytesIO(clean)) as image:
            same = size is None or image.size == size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UnreadableImage(f"the stripped image is unreadable: {type(exc).__name__}") from exc
    if found:
        raise UnreadableImage(f"metadata left after stripping: {', '.join(found)}")
    if not same:
        raise UnreadableImage("the stripped image is not the same picture")
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
    except _READ_ERRORS as exc:
        raise UnreadableImage(f"cannot read the image: {type(exc).__name__}") from exc
    return _checked(buffer.getvalue(), "image/jpeg")


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


__all__ = ["CleanImage", "UnreadableImage", "find_metadata", "jpeg_without_metadata", "preview",
           "strip_metadata"]
