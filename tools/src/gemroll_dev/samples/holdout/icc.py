"""Wide-gamut ICC profiles (Display P3, Adobe RGB 1998) written byte by byte, and the pixel
conversion into them, so that a file's numbers only look right to a reader that honours
the embedded profile (as a phone's Display P3 JPEG or a camera's Adobe RGB export)."""

from __future__ import annotations

import io
import struct
from functools import cache

from PIL import Image, ImageCms

# D50-adapted colorants (ICC PCS), as in the profiles that Apple and Adobe ship.
_PRIMARIES = {
    "display_p3": ((0.515102, 0.241182, -0.001049), (0.291965, 0.692236, 0.041882),
                   (0.157153, 0.066582, 0.784378)),
    "adobe_rgb": ((0.609741, 0.311111, 0.019470), (0.205276, 0.625671, 0.060867),
                  (0.149185, 0.063217, 0.744568)),
}
_DESCRIPTIONS = {"display_p3": "Display P3", "adobe_rgb": "Adobe RGB (1998) compatible"}
_D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _curve(name: str) -> bytes:
    if name == "adobe_rgb":  # gamma 563/256 = 2.19921875
        return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 563) + b"\0\0"
    entries = []
    for i in range(1024):  # the sRGB curve, which Display P3 shares
        v = i / 1023
        lin = v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        entries.append(round(lin * 65535))
    return b"curv" + b"\0" * 4 + struct.pack(f">I{len(entries)}H", len(entries), *entries)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    body = (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)
    return body


def _text(text: str) -> bytes:
    return b"text" + b"\0" * 4 + text.encode("ascii") + b"\0"


@cache
def profile_bytes(name: str) -> bytes:
    """An ICC v2.1 matrix/TRC display profile."""
    red, green, blue = _PRIMARIES[name]
    curve = _curve(name)
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", _desc(_DESCRIPTIONS[name])),
        (b"cprt", _text("No copyright, use freely (gemroll holdout roll)")),
        (b"wtpt", _xyz(*_D50)),
        (b"rXYZ", _xyz(*red)), (b"gXYZ", _xyz(*green)), (b"bXYZ", _xyz(*blue)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data, placed = [], b"", {}
    for sig, body in tags:
        if body not in placed:
            pad = (-len(data)) % 4
            data += b"\0" * pad
            placed[body] = offset + len(data)
            data += body
        table.append(struct.pack(">4sII", sig, placed[body], len(body)))
    data += b"\0" * ((-len(data)) % 4)
    size = 128 + table_size + len(data)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntr"
              + b"RGB " + b"XYZ " + struct.pack(">6H", 2025, 1, 1, 0, 0, 0) + b"acsp"
              + b"APPL" + b"\0" * 4 + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + struct.pack(">I", 0)
              + _s15(_D50[0]) + _s15(_D50[1]) + _s15(_D50[2]) + b"\0" * 4 + b"\0" * 16
              + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data


def convert_to(image: Image.Image, name: str) -> Image.Image:
    """sRGB pixels re-encoded in the named space (the profile to embed: `profile_bytes`)."""
    source = ImageCms.createProfile("sRGB")
    target = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes(name)))
    out = ImageCms.profileToProfile(image.convert("RGB"), source, target,
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                                    outputMode="RGB")
    assert out is not None
    return out
