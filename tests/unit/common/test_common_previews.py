"""Previews shown in the user's own listing carry nothing but pixels: no EXIF, GPS, XMP,
serials, comments, in any input format; upright; small."""

from __future__ import annotations

import io

import pytest
from gemroll_common.media_privacy import UnreadableImage, find_metadata, preview
from gemroll_testkit import photos
from PIL import Image

SOURCES = {
    "phone jpeg": lambda: photos.phone_jpeg(size=(800, 600), orientation=6),
    "heic with gps": lambda: photos.heic(photos.hills(1), exif=photos.exif(
        make="Apple", gps=photos.PHONE_GPS, orientation=6)),
    "avif with gps": lambda: photos.avif(photos.hills(2), exif=photos.exif(
        make="Apple", gps=photos.PHONE_GPS, orientation=6)),
    "cmyk jpeg": lambda: photos.cmyk_jpeg(photos.scene(3, (640, 480))),
    "16-bit png": lambda: photos.gray16_png(photos.scene(4, (640, 480))),
}


@pytest.mark.parametrize("make", SOURCES.values(), ids=SOURCES.keys())
def test_a_preview_is_a_small_upright_jpeg_with_no_metadata(make) -> None:
    source = make()
    with Image.open(io.BytesIO(source)) as original:
        turned = original.getexif().get(0x0112) == 6
        wide, high = original.size
    small = preview(source, 256)
    assert small.content_type == "image/jpeg"
    assert find_metadata(small.data) == []
    for secret in (photos.PHONE_SERIAL.encode(), b"Paris", photos.PHONE_OWNER.encode()):
        assert secret not in small.data
    with Image.open(io.BytesIO(small.data)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert max(image.size) == 256
        assert (image.width < image.height) == (high > wide if not turned else wide > high)


def test_a_small_image_is_not_enlarged_and_garbage_is_refused() -> None:
    with Image.open(io.BytesIO(preview(photos.png(size=(40, 30)), 256).data)) as image:
        assert image.size == (40, 30)
    with pytest.raises(UnreadableImage):
        preview(b"not an image at all", 256)
    with pytest.raises(UnreadableImage):
        preview(photos.truncated(photos.photo_jpeg(), 0.3), 256)
