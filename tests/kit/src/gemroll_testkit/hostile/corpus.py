"""The hostile upload corpus: at least 200 bad files, the same bytes on every run.

Every file says what a correct service does with it:

* `reject`: not an acceptable photo (not an image, truncated, a bomb, too large...): a clear
  4xx with a JSON error code;
* `either`: a decodable image with something odd around it (malformed EXIF, a trailing ZIP,
  a lying name or content type): accepted (2xx) or refused (4xx), never a 5xx.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from ..photos import encode

Expect = Literal["reject", "either"]
MB = 1024 * 1024


@dataclass(frozen=True)
class HostileFile:
    name: str
    """Unique, readable id (also used as the upload's file name unless `filename` is set)."""
    category: str
    data: bytes
    expect: Expect
    content_type: str = "application/octet-stream"
    filename: str | None = None

    @property
    def upload_name(self) -> str:
        return self.filename if self.filename is not None else self.name


# -- base images -------------------------------------------------------------------------------
def _pixels(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], -1)
    noise = rng.integers(0, 40, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def jpeg(seed: int = 0, **options: object) -> bytes:
    return encode(_pixels(seed), "JPEG", quality=85, **options)


def png(seed: int = 0) -> bytes:
    return encode(_pixels(seed), "PNG")


def webp(seed: int = 0, lossless: bool = False) -> bytes:
    return encode(_pixels(seed), "WEBP", quality=80, lossless=lossless)


def heic(seed: int = 0) -> bytes:
    return encode(_pixels(seed), "HEIF", quality=70)


def avif(seed: int = 0) -> bytes:
    return encode(_pixels(seed), "AVIF", quality=60)


# -- PNG, JPEG, WebP, HEIC surgery -------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declared(width: int, height: int, *, bit_depth: int = 8, color: int = 2,
                 idat: bytes | None = None) -> bytes:
    """A structurally valid PNG (good CRCs) that declares `width` x `height` pixels but
    carries almost no data: a pixel flood."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color, 0, 0, 0)
    body = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))


def png_zlib_bomb(width: int, height: int, inflated_mb: int) -> bytes:
    """A 1-bit PNG whose IDAT inflates to `inflated_mb` MB of zero rows from a few KB."""
    row = (width + 7) // 8 + 1
    total = min(inflated_mb * MB, row * height)
    packer = zlib.compressobj(9)
    chunk = b"\x00" * MB
    parts = []
    left = total
    while left > 0:
        parts.append(packer.compress(chunk[: min(left, MB)]))
        left -= MB
    parts.append(packer.flush())
    return png_declared(width, height, bit_depth=1, color=0, idat=b"".join(parts))


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """`data` with its SOF header claiming `width` x `height` (the pixel data is unchanged)."""
    out = bytearray(data)
    i = 2
    while i + 9 < len(out):
        if out[i] != 0xFF:
            i += 1
            continue
        marker = out[i + 1]
        length = struct.unpack(">H", out[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            out[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        i += 2 + length
    raise ValueError("no SOF marker")


def jpeg_with_segment(data: bytes, marker: int, payload: bytes, *,
                      declared_length: int | None = None) -> bytes:
    """Insert an APPn (or other) segment right after SOI."""
    length = declared_length if declared_length is not None else len(payload) + 2
    segment = bytes([0xFF, marker]) + struct.pack(">H", length & 0xFFFF) + payload
    return data[:2] + segment + data[2:]


def webp_vp8x(width: int, height: int, inner: bytes) -> bytes:
    """An extended WebP whose canvas claims `width` x `height`, around a real small image."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0, 0, 0, 0]) + \
        (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunks = vp8x + inner[12:]
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def webp_vp8l_size(data: bytes, width: int, height: int) -> bytes:
    """A lossless WebP whose VP8L header claims `width` x `height` (at most 16384)."""
    out = bytearray(data)
    at = out.find(b"VP8L") + 8
    if out[at] != 0x2F:
        raise ValueError("not a VP8L bitstream")
    bits = int.from_bytes(out[at + 1:at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (width - 1) | ((height - 1) << 14)
    out[at + 1:at + 5] = bits.to_bytes(4, "little")
    return bytes(out)


def heic_with_size(data: bytes, width: int, height: int) -> bytes:
    """A HEIC whose `ispe` (image spatial extents) boxes claim `width` x `height`."""
    out = bytearray(data)
    at = out.find(b"ispe")
    while at >= 0:
        out[at + 8:at + 16] = struct.pack(">II", width, height)
        at = out.find(b"ispe", at + 4)
    return bytes(out)


# -- EXIF (TIFF) surgery -----------------------------------------------------------------------
ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7


def tiff(entries: list[tuple[int, int, int, bytes]], *, next_ifd: int = 0,
         order: bytes = b"MM", first_ifd: int = 8) -> bytes:
    """A big-endian TIFF with one IFD of raw entries (tag, type, count, value bytes).
    Values over 4 bytes are stored after the IFD, as EXIF readers expect."""
    count = len(entries)
    data_at = first_ifd + 2 + 12 * count + 4
    ifd, extra = bytearray(struct.pack(">H", count)), bytearray()
    for tag, kind, n, value in entries:
        if len(value) <= 4:
            ifd += struct.pack(">HHI", tag, kind, n) + value.ljust(4, b"\x00")
        else:
            ifd += struct.pack(">HHII", tag, kind, n, data_at + len(extra))
            extra += value
    ifd += struct.pack(">I", next_ifd)
    head = order + struct.pack(">HI", 42, first_ifd)
    return head + b"\x00" * (first_ifd - 8) + bytes(ifd) + bytes(extra)


def exif_jpeg(entries: list[tuple[int, int, int, bytes]], seed: int = 0, **kw: object) -> bytes:
    return jpeg_with_segment(jpeg(seed), 0xE1, b"Exif\x00\x00" + tiff(entries, **kw))  # type: ignore[arg-type]


def exif_sub_jpeg(pointer_tag: int, entries: list[tuple[int, int, int, bytes]],
                  seed: int = 0) -> bytes:
    """EXIF whose IFD0 points (`pointer_tag`: 0x8769 Exif, 0x8825 GPS) to a second IFD."""
    ifd0 = tiff([(pointer_tag, LONG, 1, struct.pack(">I", 26))])  # 8 + 18 bytes
    sub = tiff(entries, first_ifd=26)
    return jpeg_with_segment(jpeg(seed), 0xE1, b"Exif\x00\x00" + ifd0 + sub[26:])


def _rational(num: int, den: int) -> bytes:
    return struct.pack(">II", num & 0xFFFFFFFF, den & 0xFFFFFFFF)


def _exif_cases() -> Iterator[tuple[str, bytes]]:
    ascii_ = lambda s: (s.encode("latin-1") + b"\x00")  # noqa: E731
    yield "ifd_offset_past_end", jpeg_with_segment(
        jpeg(1), 0xE1, b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\x00")
    yield "ifd_loop_to_itself", exif_jpeg([(0x010F, ASCII, 4, b"ABC\x00")], next_ifd=8)
    yield "ifd_count_65535", jpeg_with_segment(
        jpeg(2), 0xE1, b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x00" * 40)
    yield "huge_description_60k", exif_jpeg([(0x010E, ASCII, 60_000, b"A" * 59_999 + b"\x00")])
    yield "huge_make_binary", exif_jpeg([(0x010F, ASCII, 30_000,
                                          bytes(random.Random(3).randbytes(30_000)))])
    yield "exif_pointer_to_itself", exif_jpeg([(0x8769, LONG, 1, struct.pack(">I", 8))])
    yield "gps_pointer_past_end", exif_jpeg([(0x8825, LONG, 1, struct.pack(">I", 0x7FFFFFFF))])
    north, east = (1, ASCII, 2, b"N\x00"), (3, ASCII, 2, b"E\x00")
    yield "gps_zero_denominator", exif_sub_jpeg(0x8825, [
        north, (2, RATIONAL, 3, _rational(57, 0) * 3), east,
        (4, RATIONAL, 3, _rational(10, 0) * 3)])
    yield "gps_1000_degrees", exif_sub_jpeg(0x8825, [
        north, (2, RATIONAL, 3, _rational(1000, 1) + _rational(99, 1) + _rational(99, 1)), east,
        (4, RATIONAL, 3, _rational(4_000_000_000, 1) * 3)])
    yield "gps_count_1_rational", exif_sub_jpeg(0x8825, [north, (2, RATIONAL, 1,
                                                                  _rational(57, 1))])
    yield "gps_wrong_types", exif_sub_jpeg(0x8825, [(1, SHORT, 1, b"\xff\xff"),
                                                    (2, ASCII, 6, b"north\x00")])
    for label, text in (("9999", "9999:99:99 99:99:99"), ("zero", "0000:00:00 00:00:00"),
                        ("garbage", "\xff\xfe\xfd garbage"), ("empty", ""),
                        ("overlong", "2024:01:01 10:00:00" * 20),
                        ("year_1", "0001:01:01 00:00:00")):
        entry = (0x9003, ASCII, len(text) + 1, ascii_(text))
        yield f"datetime_original_{label}", exif_sub_jpeg(0x8769, [entry])
        yield f"datetime_ifd0_{label}", exif_jpeg([(0x0132, ASCII, len(text) + 1, ascii_(text))])
    yield "offset_time_garbage", exif_sub_jpeg(0x8769, [
        (0x9003, ASCII, 20, ascii_("2024:01:01 10:00:00")), (0x9011, ASCII, 7, ascii_("+99:99"))])
    for value in (0, 9, 255, 65535):
        yield f"orientation_{value}", exif_jpeg([(0x0112, SHORT, 1, struct.pack(">H", value))])
    yield "orientation_as_rational", exif_jpeg([(0x0112, RATIONAL, 1, _rational(1, 0))])
    yield "bad_byte_order", exif_jpeg([(0x010F, ASCII, 4, b"ABC\x00")], order=b"XX")
    yield "two_exif_segments", jpeg_with_segment(
        exif_jpeg([(0x010F, ASCII, 4, b"ABC\x00")]), 0xE1,
        b"Exif\x00\x00" + tiff([(0x0112, SHORT, 1, b"\x00\x06")]))
    yield "segment_length_beyond_file", jpeg_with_segment(jpeg(6), 0xE1, b"Exif\x00\x00MM",
                                                          declared_length=65_000)
    yield "segment_length_zero", jpeg_with_segment(jpeg(7), 0xE1, b"Exif\x00\x00",
                                                   declared_length=0)
    yield "count_overflow", exif_jpeg([(0x010F, ASCII, 0xFFFFFFFF, b"ABC\x00")])
    yield "unknown_type_99", exif_jpeg([(0x010F, 99, 1, b"\x00\x00\x00\x00")])
    yield "makernote_garbage", exif_jpeg([(0x927C, UNDEFINED, 20_000,
                                           random.Random(9).randbytes(20_000))])


# -- the corpus ------------------------------------------------------------------------------
def corpus() -> list[HostileFile]:
    """Deterministic: the same files, in the same order, on every call."""
    rng = random.Random(20261126)
    files: list[HostileFile] = []

    def add(name: str, category: str, data: bytes, expect: Expect, **kw: str) -> None:
        files.append(HostileFile(name, category, data, expect, **kw))

    valid = {"jpg": jpeg(11), "png": png(12), "webp": webp(13), "heic": heic(14),
             "avif": avif(17), "progressive.jpg": jpeg(15, progressive=True),
             "lossless.webp": webp(16, True)}

    # Truncated files: every format, cut at many points (the header alone, mid-data, last byte).
    for ext, data in valid.items():
        for keep in (0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9):
            add(f"truncated_{int(keep * 100):02d}pct.{ext}", "truncated",
                data[: max(1, int(len(data) * keep))], "reject")
        # The last byte is the end marker's (JPEG EOI, PNG IEND CRC): the pixels are whole.
        add(f"truncated_minus_1_byte.{ext}", "truncated", data[:-1],
            "either" if ext.endswith(("jpg", "png")) else "reject")

    # Nothing, almost nothing, and bare magic numbers.
    add("zero_bytes.jpg", "empty", b"", "reject")
    add("one_byte.jpg", "empty", b"\xff", "reject")
    magics = {"jpeg_soi": b"\xff\xd8\xff", "jpeg_soi_eoi": b"\xff\xd8\xff\xd9",
              "png_signature": b"\x89PNG\r\n\x1a\n", "webp_riff": b"RIFF\x00\x00\x00\x00WEBP",
              "heic_ftyp": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
              "gif89a": b"GIF89a", "pdf": b"%PDF-1.7\n", "zip": b"PK\x03\x04",
              "bmp": b"BM", "tiff": b"II*\x00",
              "avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"}
    for label, magic in magics.items():
        add(f"magic_only_{label}", "magic-only", magic, "reject")
        add(f"magic_then_zeros_{label}", "magic-only", magic + b"\x00" * 4096, "reject")

    # Random bytes of many sizes, and random bytes behind each image magic.
    for size in (1, 7, 64, 512, 4096, 65_536, 1_000_000):
        add(f"random_{size}.jpg", "random", rng.randbytes(size), "reject")
    for label, magic in list(magics.items())[:5]:
        for size in (100, 10_000, 200_000):
            add(f"random_after_{label}_{size}", "random", magic + rng.randbytes(size), "reject")

    # Bit flips and zeroed blocks inside valid files.
    for ext in ("jpg", "png", "webp", "heic", "avif"):
        data = valid[ext]
        for n in range(6):
            flipped = bytearray(data)
            for _ in range(8 * (n + 1)):
                at = rng.randrange(16, len(flipped))
                flipped[at] ^= 1 << rng.randrange(8)
            add(f"bitflips_{n}.{ext}", "corrupt", bytes(flipped), "either")
        zeroed = bytearray(data)
        zeroed[len(data) // 3: len(data) // 3 + 256] = b"\x00" * 256
        add(f"zeroed_block.{ext}", "corrupt", bytes(zeroed), "either")

    # Pixel floods: tiny files declaring enormous dimensions.
    for w, h in ((65_535, 65_535), (100_000, 100_000), (2**31 - 1, 2**31 - 1), (1, 2**31 - 1),
                 (2**31 - 1, 1), (30_000, 30_000), (0, 0), (0, 100), (16_384, 16_384)):
        add(f"png_declares_{w}x{h}.png", "pixel-flood", png_declared(w, h), "reject")
    for w, h in ((65_500, 65_500), (65_535, 65_535), (65_500, 1), (1, 65_500), (30_000, 30_000),
                 (20_000, 20_000), (0, 0), (0, 480)):
        within = 0 < w * h <= 200_000_000 and min(w, h) < 100  # a strip, not a bomb
        expect: Expect = "either" if within else "reject"
        add(f"jpeg_declares_{w}x{h}.jpg", "pixel-flood", jpeg_with_size(valid["jpg"], w, h),
            expect)
        add(f"progressive_jpeg_declares_{w}x{h}.jpg", "pixel-flood",
            jpeg_with_size(valid["progressive.jpg"], w, h), expect)
    for w, h in ((16_384, 16_384), (16_384, 1), (10_000, 10_000)):
        add(f"webp_vp8l_declares_{w}x{h}.webp", "pixel-flood",
            webp_vp8l_size(valid["lossless.webp"], w, h), "reject")
    for w, h in ((16_777_216, 16_777_216), (100_000, 100_000), (20_000, 20_000)):
        add(f"webp_vp8x_canvas_{w}x{h}.webp", "pixel-flood", webp_vp8x(w, h, valid["webp"]),
            "reject")
    for w, h in ((60_000, 60_000), (2**31, 2**31), (0, 0)):
        add(f"heic_ispe_{w}x{h}.heic", "pixel-flood",
            heic_with_size(valid["heic"], min(w, 2**32 - 1), min(h, 2**32 - 1)), "reject")
        add(f"avif_ispe_{w}x{h}.avif", "pixel-flood",
            heic_with_size(valid["avif"], min(w, 2**32 - 1), min(h, 2**32 - 1)), "reject")
    add("gif_screen_65535.gif", "pixel-flood",
        b"GIF89a" + struct.pack("<HH", 65_535, 65_535) + b"\x00\x00\x00;", "reject")

    # Decompression bombs: little data inflating to huge pixel buffers.
    for w, h, mb in ((30_000, 30_000, 110), (50_000, 50_000, 64), (200_000, 2_000, 40),
                     (20_000, 12_000, 28)):
        add(f"png_zlib_bomb_{w}x{h}.png", "decompression-bomb", png_zlib_bomb(w, h, mb),
            "reject")

    # Polyglots: images that are also ZIP/HTML/PDF, and documents that start like images.
    zip_bytes = _zip_with("payload.html", b"<script>alert(1)</script>")
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    add("jpeg_plus_zip.jpg", "polyglot", valid["jpg"] + zip_bytes, "either")
    add("jpeg_plus_html.jpg", "polyglot", valid["jpg"] + html, "either")
    add("jpeg_plus_pdf.jpg", "polyglot", valid["jpg"] + pdf, "either")
    add("png_plus_zip.png", "polyglot", valid["png"] + zip_bytes, "either")
    add("png_text_chunk_html.png", "polyglot",
        valid["png"][:33] + png_chunk(b"tEXt", b"Comment\x00" + html) + valid["png"][33:],
        "either")
    add("jpeg_comment_html.jpg", "polyglot", jpeg_with_segment(valid["jpg"], 0xFE, html),
        "either")
    add("gif_plus_html.gif", "polyglot", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + html,
        "reject", content_type="image/gif")
    add("gif_plus_zip.gif", "polyglot", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + zip_bytes,
        "reject")
    add("pdf_plus_jpeg.jpg", "polyglot", pdf + valid["jpg"], "reject", content_type="image/jpeg")
    add("zip_plus_jpeg.jpg", "polyglot", zip_bytes + valid["jpg"], "reject")
    add("html_then_jpeg.jpg", "polyglot", html + valid["jpg"], "reject", content_type="image/jpeg")
    add("svg_with_script.jpg", "polyglot",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "reject",
        content_type="image/svg+xml")

    # Huge or malformed EXIF on otherwise valid JPEGs.
    for label, data in _exif_cases():
        add(f"exif_{label}.jpg", "exif", data, "either")

    # Lying names and content types.
    lies = [("png_named.jpg", valid["png"], "image/jpeg", "either"),
            ("jpeg_named.png", valid["jpg"], "image/png", "either"),
            ("webp_named.heic", valid["webp"], "image/heic", "either"),
            ("heic_named.jpg", valid["heic"], "image/jpeg", "either"),
            ("jpeg_as_text_html.html", valid["jpg"], "text/html", "either"),
            ("jpeg_as_javascript.js", valid["jpg"], "application/javascript", "either"),
            ("html_named.jpg", html, "image/jpeg", "reject"),
            ("text_named.heic", b"hello world\n" * 100, "image/heic", "reject"),
            ("pdf_named.png", pdf, "image/png", "reject"),
            ("zip_named.webp", zip_bytes, "image/webp", "reject"),
            ("elf_named.jpg", b"\x7fELF\x02\x01\x01" + rng.randbytes(2000), "image/jpeg",
             "reject"),
            ("shell_named.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg", "reject"),
            ("bmp_named.jpg", encode(_pixels(17), "BMP"), "image/jpeg", "reject"),
            ("tiff_named.jpg", encode(_pixels(18), "TIFF"), "image/jpeg", "reject"),
            ("gif_named.png", encode(_pixels(19), "GIF"), "image/png", "reject"),
            ("ico_named.png", encode(_pixels(20), "ICO"), "image/png", "reject")]
    for name, data, ctype, expect in lies:
        add(f"lie_{name}", "wrong-type", data, expect, content_type=ctype)  # type: ignore[arg-type]
    for label, filename in (("traversal", "../../../../etc/passwd.jpg"),
                            ("absolute", "/etc/shadow.jpg"), ("nul_byte", "photo\x00.php.jpg"),
                            ("very_long", "a" * 5000 + ".jpg"), ("unicode_rtl", "gpj\u202e.exe"),
                            ("empty_name", ""), ("windows_path", "C:\\Windows\\system32\\x.jpg"),
                            ("url", "http://evil.example/x.jpg")):
        add(f"name_{label}.jpg", "hostile-name", jpeg(100 + len(files)), "either",
            filename=filename)

    # Giant real dimensions (within the byte limit), and oversize bodies.
    add("giant_real_1x60000.png", "giant", encode(Image.new("L", (1, 60_000)), "PNG"),
        "either")
    add("giant_real_60000x1.png", "giant", encode(Image.new("L", (60_000, 1)), "PNG"),
        "either")
    add("giant_real_16000x14000_1bit.png", "giant",
        encode(Image.new("1", (16_000, 14_000)), "PNG"), "reject")
    add("oversize_9mb_random.jpg", "oversize", b"\xff\xd8\xff\xe0" + rng.randbytes(9 * MB),
        "reject")
    return files


def _zip_with(name: str, content: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content)
    return out.getvalue()
