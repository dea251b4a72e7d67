"""Training copies of upright JPEGs lose their metadata without being decoded: every metadata
segment goes, the pictures bytes stay as they were, and nothing after the end of the image
survives. Tried on what phones and hostile writers produce."""

from __future__ import annotations

import io

import numpy as np
import pytest
from gemroll_common.media_privacy import (
    UnreadableImage,
    find_metadata,
    jpeg_without_metadata,
    strip_metadata,
)
from gemroll_testkit import photos
from PIL import Image

SECRETS = (photos.PHONE_SERIAL.encode(), photos.PHONE_OWNER.encode(), b"Paris",
           photos.PHONE_MAKER_NOTE, b"GPS", b"motion-photo-with-location")


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def app(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """Extra segments right after SOI, as writers put them."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


UPRIGHT = {
    "phone": lambda: photos.phone_jpeg(photos.hills(1), size=(640, 480), orientation=1),
    "progressive": lambda: photos.jpeg(photos.scene(2, (640, 480)), progressive=True,
                                       exif=photos.exif(make="Apple", gps=photos.PHONE_GPS,
                                                        serial=photos.PHONE_SERIAL)),
    "restart markers": lambda: photos.jpeg(photos.scene(3, (640, 480)), restart_marker_rows=1,
                                           exif=photos.exif(gps=photos.PHONE_GPS)),
    "cmyk": lambda: with_segments(photos.cmyk_jpeg(photos.scene(4, (320, 240))),
                                  app(0xE1, b"Exif\x00\x00" + photos.exif(
                                      gps=photos.PHONE_GPS).tobytes()[6:])),
    "mpf and a motion photo appended": lambda: with_segments(
        photos.phone_jpeg(photos.hills(5), size=(640, 480), orientation=1),
        app(0xE2, b"MPF\x00" + b"\x00" * 40), app(0xED, b"Photoshop 3.0\x00Paris"),
        app(0xE0, b"JFXX\x00\x10" + bytes(64)), app(0xFE, b"GPS 48.85 N owner " +
                                                         photos.PHONE_OWNER.encode()),
    ) + b"\x00\x00\x00\x18ftypmp42" + b"motion-photo-with-location" * 100,
}


@pytest.mark.parametrize("make", UPRIGHT.values(), ids=UPRIGHT.keys())
def test_an_upright_jpeg_keeps_its_pixels_and_loses_every_metadata_segment(make) -> None:
    source = make()
    lossless = jpeg_without_metadata(source)
    assert lossless is not None, "a plain JPEG takes the lossless path"
    clean = strip_metadata(source)
    assert clean.data == lossless and clean.content_type == "image/jpeg"
    assert find_metadata(clean.data) == []
    assert not [s for s in SECRETS if s in clean.data]
    assert clean.data.endswith(b"\xff\xd9") and clean.data.count(b"\xff\xd8") == 1
    np.testing.assert_array_equal(pixels(clean.data), pixels(source))  # not re-encoded
    with Image.open(io.BytesIO(source)) as before, Image.open(io.BytesIO(clean.data)) as after:
        assert after.mode == before.mode
        assert after.info.get("icc_profile") == before.info.get("icc_profile")


def test_a_turned_jpeg_is_decoded_and_written_upright_instead() -> None:
    source = photos.phone_jpeg(photos.hills(6), size=(640, 480), orientation=6)
    clean = strip_metadata(source)
    assert find_metadata(clean.data) == []
    with Image.open(io.BytesIO(source)) as before, Image.open(io.BytesIO(clean.data)) as after:
        assert after.size == (before.height, before.width)


@pytest.mark.parametrize("cut", [0.2, 0.6, 0.97])
def test_a_cut_short_or_malformed_jpeg_never_takes_the_lossless_path(cut) -> None:
    source = photos.phone_jpeg(photos.hills(7), size=(640, 480), orientation=1)
    assert jpeg_without_metadata(photos.truncated(source, cut)) is None
    assert jpeg_without_metadata(b"\xff\xd8\xff\xd9") is None  # an end without any scan
    assert jpeg_without_metadata(b"\xff\xd8\xff\xe1\xff\xff" + source[2:]) is None  # length
    assert jpeg_without_metadata(photos.png()) is None
    try:
        clean = strip_metadata(photos.truncated(source, cut))
    except UnreadableImage:
        return
    assert find_metadata(clean.data) == []  # whatever Pillow made of it, nothing private
    assert not [s for s in SECRETS if s in clean.data]


@pytest.mark.parametrize("samsung", [False, True], ids=["google", "samsung"])
def test_a_motion_photos_clip_is_found_after_the_picture(samsung):
    from gemroll_common.media_privacy import appended_video
    from gemroll_testkit import clips

    data = clips.motion_photo(samsung=samsung)
    offset = appended_video(data)
    assert offset is not None and data[offset + 4:offset + 8] == b"ftyp"
    assert appended_video(data[:offset]) is None  # the picture alone
    assert appended_video(data[:offset - 100]) is None  # no end of image: not plain JPEG


def test_finding_the_clip_copies_nothing_of_a_large_photo():
    """Ingest looks for a clip in every JPEG upload (up to tens of MB, through an mmap): the
    walk over the segments keeps offsets, not copies."""
    import tracemalloc

    from gemroll_common.media_privacy import appended_video

    data = photos.jpeg_of_size(12_000_000)
    tracemalloc.start()
    try:
        assert appended_video(data) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) // 20, f"{peak} bytes allocated for a {len(data)}-byte photo"
