"""Which image type a file really is, from its first bytes (never from names or headers)."""

from __future__ import annotations

SNIFF_BYTES = 64
"""How many leading bytes `sniff_content_type` needs."""

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _ftyp_brands(head: bytes) -> list[bytes]:
    """Major and compatible brands of an ISO-BMFF `ftyp` box at the start of the file."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return []
    box_size = int.from_bytes(head[0:4], "big")
    end = min(max(box_size, 16), len(head))
    brands = [head[8:12]]
    brands += [head[i:i + 4] for i in range(16, end - 3, 4)]
    return brands


def sniff_content_type(head: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/webp`, `image/heic`, `image/heif`, `image/avif`, or
    None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[0:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    brands = _ftyp_brands(head)
    if not brands:
        return None
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
