"""Pixel statistics: flat UI, blur, darkness and noise move the right numbers."""

from __future__ import annotations

import numpy as np
import pytest
from gemroll_classifier.domain.pixels import noise_sigma, pixel_stats
from gemroll_testkit import photos


def test_flat_image_is_flat_and_has_few_colours():
    stats = pixel_stats(np.full((100, 120, 3), 200, np.uint8))
    assert stats.flat_fraction == pytest.approx(1.0)
    assert stats.palette_fraction == pytest.approx(1.0)
    assert stats.laplacian_var == 0.0


def test_blur_lowers_laplacian_variance():
    photo = photos.scene(1, (448, 336))
    blurred = photos.blurred(photo, 4)
    assert pixel_stats(blurred).laplacian_var < pixel_stats(photo).laplacian_var / 4


def test_darkness_shows_in_brightness_and_dark_fraction():
    stats = pixel_stats(photos.darkened(photos.scene(2, (448, 336))))
    assert stats.brightness < 0.1
    assert stats.dark_fraction > 0.9


def test_noise_estimate_tracks_added_noise():
    rng = np.random.default_rng(0)
    flat = np.full((200, 200), 128.0, np.float32)
    assert noise_sigma(flat) == pytest.approx(0.0)
    assert noise_sigma(flat + rng.normal(0, 10, flat.shape)) == pytest.approx(10, rel=0.1)


def test_paper_fraction_sees_white_unsaturated_pixels():
    assert pixel_stats(np.full((50, 50, 3), 250, np.uint8)).paper_fraction == 1.0
    assert pixel_stats(np.full((50, 50, 3), (250, 40, 40), np.uint8)).paper_fraction == 0.0


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError):
        pixel_stats(np.zeros((10, 10), np.uint8))


def test_directional_sharpness_catches_motion_blur():
    from PIL import Image, ImageFilter

    photo = photos.scene(3, (448, 336))
    kernel = ImageFilter.Kernel((5, 5), [0] * 10 + [1] * 5 + [0] * 10)  # horizontal streak
    streaked = np.asarray(Image.fromarray(photo).filter(kernel))
    sharp, blurred = pixel_stats(photo), pixel_stats(streaked)
    assert blurred.directional_var < sharp.directional_var / 4


def test_skin_fraction():
    assert pixel_stats(np.full((40, 40, 3), (224, 172, 150), np.uint8)).skin_fraction == 1.0
    assert pixel_stats(np.full((40, 40, 3), (40, 90, 200), np.uint8)).skin_fraction == 0.0
