"""Image validation with Pillow (+ pillow-heif; AVIF by Pillow's own plugin): verify the bytes
decode, refuse bombs, read EXIF.

Memory stays bounded: JPEGs are decoded at 1/8 scale (every byte of the entropy-coded data is
still checked), PNGs are checked by their chunk CRCs, and full decodes of other formats are
limited by `full_decode_max_pixels` and a semaphore.
"""

from __future__ import annotations

import asyncio
import mmap
from dataclasses import replace
from typing import Any

import pillow_heif
from gemroll_common import media_privacy
from gemroll_common.media_privacy import appended_video
from gemroll_common.sniff import sniff_content_type
from PIL import Image, UnidentifiedImageError

from ..domain import exif as exif_rules
from ..domain.errors import EmptyFile, InvalidImage, TooManyPixels, UnsupportedMediaType
from ..domain.media import ImageFacts, StagedFile

pillow_heif.register_heif_opener()

PILLOW_FORMAT = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
    "image/avif": "AVIF",  # Pillow's own plugin (libavif), Pillow >= 11.2
}

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME, _OFFSET_TIME = 0x010F, 0x0110, 0x0112, 0x0132, 0x9010
_DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011
_DATETIME_DIGITIZED, _OFFSET_DIGITIZED = 0x9004, 0x9012
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
                  IndexError, KeyError, TypeError, RuntimeError)


def configure_pillow(max_pixels: int) -> None:
    """Process-wide: Pillow's own bomb guard (a warning above the limit, an error above twice
    the limit). The inspector's explicit check after opening refuses anything above its limit."""
    Image.MAX_IMAGE_PIXELS = max_pixels


class PillowInspector:
    """Implements the ImageInspector port."""

    def __init__(self, max_pixels: int, full_decode_max_pixels: int, concurrency: int = 2) -> None:
        self.max_pixels = max_pixels
        self.full_decode_max_pixels = full_decode_max_pixels
        self._slots = asyncio.Semaphore(concurrency)

    async def inspect(self, staged: StagedFile) -> ImageFacts:
        if staged.size == 0:
            raise EmptyFile("the file is empty")
        content_type = sniff_content_type(staged.head)
        if content_type is None:
            raise UnsupportedMediaType(
                "only JPEG, PNG, HEIC/HEIF, AVIF and WebP images are accepted (judged by content)"
            )
        async with self._slots:
            return await asyncio.to_thread(self.inspect_file, staged.path, content_type)

    async def preview(self, path: str, long_side: int) -> bytes:
        async with self._slots:
            try:
                clean = await asyncio.to_thread(media_privacy.preview, path, long_side)
            except media_privacy.UnreadableImage as exc:
                raise InvalidImage(f"no preview can be made: {exc}") from None
        return clean.data

    def inspect_file(self, path: str, content_type: str) -> ImageFacts:
        """Blocking: open, check dimensions, decode-check, read EXIF."""
        fmt = PILLOW_FORMAT[content_type]
        try:
            if fmt == "PNG":
                return self._inspect_png(path, content_type)
            with Image.open(path, formats=[fmt]) as im:
                width, height = im.size
                self._check_pixels(width, height)
                facts = _facts(im, content_type, width, height)
                if fmt == "JPEG":
                    facts = replace(facts, motion_offset=_motion_offset(path))
                    # Reduced (1/8) decoding still reads every byte of the compressed data.
                    im.draft(None, (max(1, width // 8), max(1, height // 8)))
                    im.load()
                elif width * height <= self.full_decode_max_pixels:
                    im.load()
                else:  # no reduced decoding for WebP/HEIC/AVIF: refuse what cannot be verified
                    raise TooManyPixels(
                        f"{fmt} images above {self.full_decode_max_pixels} pixels cannot be "
                        f"verified; this one is {width}x{height}"
                    )
            return facts
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels(str(exc)) from None
        except (TooManyPixels, InvalidImage):
            raise
        except _DECODE_ERRORS as exc:
            raise InvalidImage(f"the {fmt} data is corrupt or truncated: {exc}") from None

    def _inspect_png(self, path: str, content_type: str) -> ImageFacts:
        with Image.open(path, formats=["PNG"]) as im:
            width, height = im.size
            self._check_pixels(width, height)
            im.verify()  # every chunk's CRC, up to IEND
        with Image.open(path, formats=["PNG"]) as im:
            if width * height <= self.full_decode_max_pixels:
                im.load()  # also reads an eXIf chunk placed after the image data
            elif "exif" not in im.info:  # getexif() would decode the whole image to find it
                return ImageFacts(content_type=content_type, width=width, height=height)
            return _facts(im, content_type, width, height)

    def _check_pixels(self, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise InvalidImage(f"invalid dimensions {width}x{height}")
        if width * height > self.max_pixels:
            raise TooManyPixels(
                f"{width}x{height} is {width * height} pixels; the limit is {self.max_pixels}"
            )


def _facts(im: Image.Image, content_type: str, width: int, height: int) -> ImageFacts:
    """EXIF facts; malformed EXIF is ignored rather than refusing the photo."""
    try:
        exif = im.getexif()
        ifd = exif.get_ifd(_EXIF_IFD)
        gps: dict[int, Any] = exif.get_ifd(_GPS_IFD)
    except _DECODE_ERRORS:
        return ImageFacts(content_type=content_type, width=width, height=height)
    capture = (
        exif_rules.parse_capture_time(
            ifd.get(_DATETIME_ORIGINAL), ifd.get(_OFFSET_ORIGINAL) or ifd.get(_OFFSET_TIME))
        or exif_rules.parse_capture_time(
            ifd.get(_DATETIME_DIGITIZED), ifd.get(_OFFSET_DIGITIZED) or ifd.get(_OFFSET_TIME))
        or exif_rules.parse_capture_time(exif.get(_DATETIME), ifd.get(_OFFSET_TIME))
    )
    return ImageFacts(
        content_type=content_type,
        width=width,
        height=height,
        capture=capture,
        camera_make=exif_rules.clean_text(exif.get(_MAKE)),
        camera_model=exif_rules.clean_text(exif.get(_MODEL)),
        orientation=exif_rules.orientation(exif.get(_ORIENTATION)),
        gps=exif_rules.gps_fix(gps.get(2), gps.get(1), gps.get(4), gps.get(3),
                               gps.get(6), gps.get(5)),
    )


def _motion_offset(path: str) -> int | None:
    """Where a motion photo's appended clip starts, when the JPEG has one."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return appended_video(data)  # type: ignore[arg-type]  # an mmap reads as bytes do
