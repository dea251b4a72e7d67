"""Which media type a file really is, from its first bytes (never from names or headers)."""

from __future__ import annotations

SNIFF_BYTES = 64
"""How many leading bytes `sniff_content_type` needs."""

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_IMAGE_BRANDS = _HEIC_BRANDS | _HEIF_BRANDS | _AVIF_BRANDS

_QUICKTIME_BRANDS = frozenset({b"qt  "})
_M4V_BRANDS = frozenset({b"M4V ", b"M4VH", b"M4VP"})
_MP4_BRANDS = frozenset({
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"avc1", b"hvc1", b"hev1", b"av01", b"dash", b"mmp4", b"MSNV", b"XAVC",
})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOC_TYPE = 0x4282
_DOC_TYPES = {b"webm": "video/webm", b"matroska": "video/x-matroska"}


def _ftyp_brands(head: bytes) -> list[bytes]:
    """Major and compatible brands of an ISO-BMFF `ftyp` box at the start of the file."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return []
    box_size = int.from_bytes(head[0:4], "big")
    end = min(max(box_size, 16), len(head))
    brands = [head[8:12]]
    brands += [head[i:i + 4] for i in range(16, end - 3, 4)]
    return brands


def _image_brand_type(brands: list[bytes]) -> str | None:
    if brands[0] in _HEIC_BRANDS:
        return "image/heic"
    if brands[0] in _AVIF_BRANDS:
        return "image/avif"
    if brands[0] in _HEIF_BRANDS:
        # A generic HEIF container: AVIF or HEIC by the codec it declares, else plain HEIF.
        if any(b in _AVIF_BRANDS for b in brands[1:]):
            return "image/avif"
        return "image/heic" if any(b in _HEIC_BRANDS for b in brands[1:]) else "image/heif"
    return None


def _video_brand_type(brands: list[bytes]) -> str | None:
    """The major brand decides; an unknown one (a camera's own) by its compatible brands,
    unless those name an image format. Audio-only files (`M4A `) are none of ours."""
    if brands[0] in _AUDIO_BRANDS:
        return None
    for candidates in ([brands[0]], brands[1:]):
        if any(b in _IMAGE_BRANDS for b in candidates):
            return None
        if any(b in _QUICKTIME_BRANDS for b in candidates):
            return "video/quicktime"
        if any(b in _M4V_BRANDS for b in candidates):
            return "video/x-m4v"
        if any(b in _MP4_BRANDS for b in candidates):
            return "video/mp4"
    return None


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `pos`: (value, next position), None when cut off."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if length > 8 or pos + length > len(data):
        return None
    value = int.from_bytes(data[pos:pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, pos + length


def _ebml_doc_type(head: bytes) -> bytes | None:
    """The DocType of a Matroska/WebM EBML header (`webm`, `matroska`), None when absent."""
    if not head.startswith(_EBML_MAGIC):
        return None
    size = _vint(head, 4, keep_marker=False)
    if size is None:
        return None
    pos, end = size[1], min(size[1] + size[0], len(head))
    while pos < end:
        element, size = _vint(head, pos, keep_marker=True), None
        if element is not None:
            size = _vint(head, element[1], keep_marker=False)
        if element is None or size is None:
            return None
        if element[0] == _EBML_DOC_TYPE:
            value = head[size[1]:size[1] + size[0]]
            return value.rstrip(b"\x00") if len(value) == size[0] else None
        pos = size[1] + size[0]
    return None


def sniff_content_type(head: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/webp`, `image/heic`, `image/heif`, `image/avif`,
    `video/mp4`, `video/quicktime`, `video/x-m4v`, `video/webm`, `video/x-matroska`, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[0:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if (doc_type := _ebml_doc_type(head)) is not None:
        return _DOC_TYPES.get(doc_type)
    brands = _ftyp_brands(head)
    if not brands:
        return None
    return _image_brand_type(brands) or _video_brand_type(brands)
