"""Decoding: orientation, HEIC, CMYK, 16-bit, animation, alpha, and unreadable files."""

from __future__ import annotations

import numpy as np
import pytest
from gemroll_classifier.adapters.decode import MODEL_SIZE, decode
from gemroll_classifier.domain.features import Unreadable
from gemroll_testkit import photos

PHOTO = photos.scene(1, (640, 480))


def test_jpeg_with_camera_exif():
    p = decode(photos.jpeg(PHOTO, exif=photos.camera_exif()), analysis_long_side=320)
    assert p.facts.file_format == "JPEG" and p.facts.camera_make == "Apple"
    assert p.facts.has_capture_exif and (p.facts.width, p.facts.height) == (640, 480)
    assert max(p.rgb.shape[:2]) <= 320 and p.rgb.shape[1] > p.rgb.shape[0]
    assert p.model_input.shape == (MODEL_SIZE, MODEL_SIZE, 3)
    assert 0 <= p.phash < 2**64


def test_exif_orientation_is_applied():
    p = decode(photos.jpeg(PHOTO, exif=photos.camera_exif(orientation=6)), analysis_long_side=320)
    assert (p.facts.width, p.facts.height) == (480, 640)
    assert p.rgb.shape[0] > p.rgb.shape[1]  # portrait after rotation


def test_large_jpeg_is_decoded_at_reduced_scale():
    scene = photos.scene(2, (1008, 756)).repeat(4, axis=0).repeat(4, axis=1)  # cheap 12 MP
    big = photos.jpeg(scene, exif=photos.camera_exif())
    p = decode(big, analysis_long_side=448)
    assert (p.facts.width, p.facts.height) == (4032, 3024)
    assert max(p.rgb.shape[:2]) == 448


@pytest.mark.parametrize("make", [photos.heic, photos.cmyk_jpeg, photos.gray16_png,
                                  photos.animated_gif, photos.rgba_png])
def test_odd_formats_decode_to_rgb(make):
    p = decode(make(PHOTO), analysis_long_side=320)
    assert p.rgb.dtype == np.uint8 and p.rgb.shape[2] == 3
    assert 0.2 < p.stats.brightness < 0.8  # neither black nor white: modes were converted


def test_heic_is_read_as_heif():
    assert decode(photos.heic(PHOTO), analysis_long_side=320).facts.file_format == "HEIF"


def test_animated_gif_counts_frames():
    assert decode(photos.animated_gif(PHOTO, frames=3)).facts.frames == 3


@pytest.mark.parametrize(("data", "detail"), [
    (b"", "empty"),
    (photos.broken_jpeg(), "unknown_format"),
    (b"hello, not an image at all", "unknown_format"),
    (photos.jpeg(PHOTO)[:600], "decode_error"),  # truncated
])
def test_unreadable_files(data, detail):
    with pytest.raises(Unreadable) as err:
        decode(data)
    assert err.value.detail == detail


def test_too_many_pixels():
    with pytest.raises(Unreadable) as err:
        decode(photos.jpeg(PHOTO), max_pixels=1000)
    assert err.value.detail == "too_large"
