"""The training roll's camera blur (`samples.camera`) and what the training plan asks of it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gemroll_dev.samples import camera, catalog, imaging
from gemroll_dev.samples.light import to_linear
from gemroll_dev.samples.plan import Effect, PhotoRecipe, ScreenRecipe, plan_camera_roll
from gemroll_dev.samples.system import photo_path
from PIL import Image


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    image = Image.open(photo_path(catalog.PHOTO_BY_KEY["astronaut"])).convert("RGB")
    return image.resize((256, 256))


def _second_moments(kernel: np.ndarray) -> tuple[float, float]:
    """Spread (pixels) of a kernel's mass along x and along y."""
    h, w = kernel.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    mx, my = (kernel * xx).sum(), (kernel * yy).sum()
    return (math.sqrt((kernel * (xx - mx) ** 2).sum()),
            math.sqrt((kernel * (yy - my) ** 2).sum()))


@pytest.mark.parametrize("kernel", [
    camera.iris_psf(9.0, 6, 15.0), camera.pan_psf(12.0, 40.0, 0.6),
    camera.tremor_psf(10.0, np.random.default_rng(3))], ids=["iris", "pan", "tremor"])
def test_kernels_keep_the_light_and_are_odd_sized(kernel: np.ndarray) -> None:
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    assert (kernel >= 0).all()
    assert kernel.shape[0] % 2 == 1 and kernel.shape[1] % 2 == 1


def test_iris_is_as_wide_as_planned_and_a_polygon_not_a_disk() -> None:
    kernel = camera.iris_psf(11.0, 5, 0.0)
    rows = np.flatnonzero(kernel.sum(axis=1) > 1e-4)
    assert 9 <= rows.size <= 12
    sx, sy = _second_moments(kernel)
    assert sx == pytest.approx(sy, rel=0.1)
    # this pentagon is symmetric top to bottom but not left to right; a disk would be both
    assert np.allclose(kernel, kernel[::-1, :], atol=1e-6)
    assert not np.allclose(kernel, kernel[:, ::-1], atol=1e-3)
    assert camera.iris_psf(1.0, 6, 0.0).max() == pytest.approx(1.0)  # no blur below a pixel
    with pytest.raises(ValueError):
        camera.iris_psf(5.0, 2, 0.0)


def test_a_pan_is_a_line_along_its_angle_that_dwells_where_it_is_slow() -> None:
    level = camera.pan_psf(15.0, 0.0, 0.0)
    sx, sy = _second_moments(level)
    assert sx == pytest.approx(15.0 / math.sqrt(12), rel=0.15) and sy < 0.6
    steep = camera.pan_psf(15.0, 90.0, 0.0)
    assert _second_moments(steep)[1] == pytest.approx(sx, rel=0.05)
    # speeding up: more light at the start (left) than at the end
    speeding = camera.pan_psf(15.0, 0.0, 0.8)
    columns = speeding.sum(axis=0)
    centre = (columns * np.arange(columns.size)).sum()
    assert centre < (columns.size - 1) / 2 - 0.5
    with pytest.raises(ValueError):
        camera.pan_psf(10.0, 0.0, 1.0)


def test_tremor_reaches_its_extent_and_differs_by_seed() -> None:
    a = camera.tremor_psf(14.0, np.random.default_rng(1))
    b = camera.tremor_psf(14.0, np.random.default_rng(2))
    assert a.shape != b.shape or not np.array_equal(a, b)
    for kernel in (a, b):
        rows = np.flatnonzero(kernel.sum(axis=1) > 1e-4)
        cols = np.flatnonzero(kernel.sum(axis=0) > 1e-4)
        assert 13 <= max(rows.size, cols.size) <= 17


def test_blur_in_linear_light_keeps_brightness_and_removes_detail(photo: Image.Image) -> None:
    blurred = camera.blur(photo, camera.iris_psf(8.0, 7, 0.0))
    assert blurred.size == photo.size
    assert to_linear(blurred).mean() == pytest.approx(to_linear(photo).mean(), rel=0.01)
    assert imaging.laplacian_variance(blurred) < imaging.laplacian_variance(photo) / 5


@pytest.mark.parametrize("kind", ["defocus", "pan", "shake"])
def test_the_effects_of_the_training_blur_use_the_camera(photo: Image.Image, kind: str) -> None:
    out = imaging.apply_effect(photo, Effect(kind, 0.02, 30.0), np.random.default_rng(0))
    assert out.size == photo.size
    assert imaging.laplacian_variance(out) < imaging.laplacian_variance(photo) / 3


def test_the_training_roll_blurs_2_to_20_stored_px_with_the_smallest_well_covered() -> None:
    plan = plan_camera_roll("train", 0)
    blurred = [i for i in plan if i.variant in ("defocus", "pan", "shake")]
    assert {i.variant for i in blurred} == {"defocus", "pan", "shake"}
    px = np.array([i.recipe.effect.amount * i.recipe.long_side for i in blurred])
    assert px.min() >= 1.99 and px.max() <= 20.01
    assert 0.35 <= float((px < 5).mean()) <= 0.45
    assert all(i.quality.value == "blurry" for i in blurred)


def test_only_the_training_roll_varies_the_sharpening_and_shows_photo_screens() -> None:
    train = plan_camera_roll("train", 0)
    sharpen = {i.recipe.sharpen for i in train if isinstance(i.recipe, PhotoRecipe)}
    assert len(sharpen) > 50
    assert all(0.7 <= r <= 1.8 and 25 <= p <= 100 for r, p in sharpen)
    pages = {i.recipe.page for i in train if isinstance(i.recipe, ScreenRecipe)}
    assert set(catalog.PHOTO_PAGE_KINDS) <= pages
    for size in ("demo", "eval"):
        plan = plan_camera_roll(size, 0)
        assert {i.recipe.sharpen for i in plan if isinstance(i.recipe, PhotoRecipe)} == {
            (1.2, 55)}
        assert "viewer" not in {i.recipe.page for i in plan if isinstance(i.recipe, ScreenRecipe)}
