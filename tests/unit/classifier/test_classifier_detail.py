"""Sharpness on the large decode: blur of a few pixels is seen, contrast and light are not."""

from __future__ import annotations

import numpy as np
import pytest
from gemroll_classifier.domain.detail import detail_stats
from PIL import Image, ImageFilter


def _scene(seed: int = 0, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """Edges and texture at every scale: random rectangles plus fine noise-like texture."""
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.full((h, w), 128.0, dtype=np.float32)
    for _ in range(400):
        x0, y0 = rng.integers(0, w - 20), rng.integers(0, h - 20)
        x1, y1 = x0 + rng.integers(4, 200), y0 + rng.integers(4, 200)
        arr[y0:y1, x0:x1] = rng.uniform(20, 235)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "L")


def _stats(image: Image.Image):  # noqa: ANN202
    return detail_stats(np.asarray(image))


def test_a_two_pixel_defocus_is_seen_on_the_large_decode() -> None:
    sharp = _scene()
    soft = sharp.filter(ImageFilter.GaussianBlur(2))
    assert _stats(sharp).sharp_best > 1.5 * _stats(soft).sharp_best


def test_the_ratio_ignores_contrast_and_brightness() -> None:
    sharp = np.asarray(_scene(), dtype=np.float32)
    faded = Image.fromarray((sharp * 0.3 + 150).astype(np.uint8), "L")  # fog: less contrast
    a, b = _stats(Image.fromarray(sharp.astype(np.uint8))), _stats(faded)
    assert b.sharp_best == pytest.approx(a.sharp_best, rel=0.25)
    assert b.energy_best < a.energy_best  # the absolute energy does fall


def test_a_sharp_subject_on_a_soft_background_stays_sharp() -> None:
    scene = _scene()
    background = scene.filter(ImageFilter.GaussianBlur(8))
    background.paste(scene.crop((500, 400, 900, 800)), (500, 400))  # a sharp subject
    assert _stats(background).sharp_best > 0.8 * _stats(scene).sharp_best


def test_motion_blur_flattens_one_direction() -> None:
    scene = np.asarray(_scene(), dtype=np.float32)
    kernel = np.ones(9, dtype=np.float32) / 9  # horizontal shake of 9 px
    moved = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, scene)
    s = _stats(Image.fromarray(moved.clip(0, 255).astype(np.uint8), "L"))
    assert s.anisotropy < 0.6
    assert s.weak_axis_best < 0.6 * _stats(Image.fromarray(scene.astype(np.uint8))).weak_axis_best


def test_noise_is_not_taken_for_detail() -> None:
    soft = np.asarray(_scene().filter(ImageFilter.GaussianBlur(3)), dtype=np.float32)
    noisy = soft + np.random.default_rng(1).normal(0, 4, soft.shape)
    a = _stats(Image.fromarray(soft.astype(np.uint8)))
    b = _stats(Image.fromarray(noisy.clip(0, 255).astype(np.uint8)))
    assert b.noise_sigma > 3
    assert b.sharp_best < 1.6 * a.sharp_best


def test_tiny_and_flat_images_are_handled() -> None:
    flat = detail_stats(np.full((40, 30), 90, dtype=np.uint8))
    assert flat.textured_fraction == 0.0
    with pytest.raises(ValueError):
        detail_stats(np.zeros((4, 4), dtype=np.uint8))


def test_eight_bit_input_measures_what_the_float_path_measures() -> None:
    """8-bit luminance is summed as integers and only the measured tiles become floats; the
    figures are those of the same levels given as floats."""
    levels = np.asarray(_scene(3, (1000, 744)).filter(ImageFilter.GaussianBlur(1)))
    ints, floats = detail_stats(levels, 0.5), detail_stats(levels.astype(np.float32), 0.5)
    for name, value in vars(ints).items():
        assert value == pytest.approx(getattr(floats, name), rel=1e-5, abs=1e-6), name
