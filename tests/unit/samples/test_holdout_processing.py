"""The holdout's processing: PSFs, sensor, looks, formats, documents, photos of screens, and
the small real build is in tests/e2e/test_holdout_build.py."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from gemroll_dev.samples.holdout import icc, optics, paper
from gemroll_dev.samples.holdout.photo import make_photo
from gemroll_dev.samples.holdout.recipes import (
    Blur,
    Encoding,
    Frame,
    PaperRecipe,
    PhotoRecipe,
    ScreenPhotoRecipe,
)
from gemroll_dev.samples.holdout.screenphoto import screen_photo
from gemroll_dev.samples.holdout.store import write_file
from gemroll_dev.samples.plan import ExifSpec
from PIL import Image, ImageCms, ImageOps

WHEN = datetime(2025, 4, 18, 14, 22, 33, tzinfo=timezone(timedelta(hours=2)))
EXIF = ExifSpec("samsung", "SM-S911B", "x", "lens", 5.4, 100, 1 / 120, 1.8, None)


def _scene(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Sharp edges and texture: a checkerboard with a gradient."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    board = ((xs // 16 + ys // 16) % 2 * 180 + 40).astype(np.uint8)
    rgb = np.stack([board, (board * 0.8 + xs / w * 40).astype(np.uint8), board[::-1]], axis=-1)
    return Image.fromarray(rgb, "RGB")


def test_psfs_are_normalised_and_sized() -> None:
    line = optics.line_psf(9.0, 30.0)
    disk = optics.disk_psf(7.0)
    shake = optics.shake_psf(12.0, np.random.default_rng(1))
    for kernel in (line, disk, shake):
        assert kernel.sum() == pytest.approx(1.0, abs=1e-5) and (kernel >= 0).all()
    assert line.shape[0] >= 9 and disk.shape[0] >= 7
    ys, xs = np.nonzero(shake > shake.max() * 0.02)
    assert 6 <= max(xs.max() - xs.min(), ys.max() - ys.min()) <= 16
    assert np.array_equal(shake, optics.shake_psf(12.0, np.random.default_rng(1)))
    horizontal = optics.line_psf(9.0, 0.0)
    assert horizontal.sum(axis=1).max() > 0.9  # all the mass in one row


def test_blur_lowers_detail_and_sensor_noise_follows_the_signal() -> None:
    linear = optics.to_linear(_scene())
    blurred = optics.convolve(linear, optics.disk_psf(6.0))

    def detail(a: np.ndarray) -> float:
        return float((np.diff(a[..., 1], axis=1) ** 2).mean())

    assert detail(blurred) < 0.5 * detail(linear)
    assert blurred.mean() == pytest.approx(linear.mean(), rel=0.02)  # light is kept
    rng = np.random.default_rng(0)
    flat = np.full((200, 200, 3), 0.01, np.float32)
    bright = np.full((200, 200, 3), 0.5, np.float32)
    assert (optics.sensor_noise(bright, rng, 1).std()
            > optics.sensor_noise(flat, rng, 1).std())
    assert (optics.sensor_noise(flat, rng, 32).std()
            > 4 * optics.sensor_noise(flat, rng, 1).std())


def test_linear_light_round_trip_and_looks() -> None:
    image = _scene()
    assert np.abs(np.asarray(optics.to_srgb(optics.to_linear(image)), np.int16)
                  - np.asarray(image, np.int16)).max() <= 1
    rng = np.random.default_rng(3)
    linear = optics.to_linear(image)
    assert optics.haze(linear, rng, 1.2).std() < linear.std()  # fog lowers contrast
    grey = optics.monochrome(linear, (0.3, 0.6, 0.1))
    assert np.allclose(grey[..., 0], grey[..., 2])
    ev = optics.exposure_for(linear, 0.04)
    assert optics.mean_luma(optics.to_srgb(optics.expose(linear, ev))) == pytest.approx(
        0.04, abs=0.01)


def _recipe(**kw: object) -> PhotoRecipe:
    return PhotoRecipe(Frame("cups", (0.1, 0.1, 0.9, 0.9)), seed=5, **kw)  # type: ignore[arg-type]


def test_make_photo_is_deterministic_and_blur_is_visible() -> None:
    def load(_: str) -> Image.Image:
        return _scene((1600, 1200))

    sharp = make_photo(_recipe(), load)
    assert sharp.size == (1280, 960)  # the crop at the source's density: nothing upscaled
    assert make_photo(_recipe(), load).tobytes() == sharp.tobytes()
    for kind in ("motion", "shake", "defocus"):
        blurred = make_photo(_recipe(blur=Blur(kind, 20.0, 45.0)), load)  # type: ignore[arg-type]
        assert optics.laplacian_energy(blurred) < 0.7 * optics.laplacian_energy(sharp), kind
    dark = make_photo(_recipe(look="dark", amount=0.03, iso=3200), load)
    assert optics.mean_luma(dark) < 0.1
    chat = make_photo(_recipe(delivered=1000), load)
    assert max(chat.size) == 1000


@pytest.mark.parametrize("fmt", ["jpeg", "heic"])
def test_every_orientation_shows_upright(tmp_path: Path, fmt: str) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    upright = Image.new("RGB", (96, 64), (240, 240, 240))
    upright.paste((250, 20, 20), (0, 0, 24, 16))  # a red corner at the top left
    for orientation in range(1, 9):
        path = tmp_path / f"o{orientation}.{fmt}"
        write_file(path, upright, Encoding(fmt, 92, orientation, EXIF), WHEN)  # type: ignore[arg-type]
        shown = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        assert shown.size == (96, 64), orientation
        r, g, _ = shown.getpixel((4, 4))
        assert r > 180 and g < 110, orientation


def test_formats_read_back(tmp_path: Path) -> None:
    image = _scene((320, 240))
    cases = {"a.avif": Encoding("avif", 70), "b.png": Encoding("png16", exif=EXIF),
             "c.jpg": Encoding("jpeg", 92, mode="CMYK", exif=EXIF),
             "d.jpg": Encoding("jpeg", 92, exif=EXIF, icc="display_p3"),
             "e.jpg": Encoding("jpeg", 92, icc="adobe_rgb")}
    for name, enc in cases.items():
        write_file(tmp_path / name, image, enc, WHEN)
    assert Image.open(tmp_path / "a.avif").format == "AVIF"
    assert Image.open(tmp_path / "b.png").mode in ("I;16", "RGB", "I")
    assert Image.open(tmp_path / "c.jpg").mode == "CMYK"
    with Image.open(tmp_path / "d.jpg") as p3:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(p3.info["icc_profile"]))
        assert "Display P3" in ImageCms.getProfileDescription(profile)
        assert p3.getexif()[0x0110] == "SM-S911B"


def test_icc_profiles_convert_colours() -> None:
    red = Image.new("RGB", (2, 2), (255, 0, 0))
    p3 = icc.convert_to(red, "display_p3").getpixel((0, 0))
    assert 225 <= p3[0] <= 240 and 40 <= p3[1] <= 60  # sRGB red sits inside P3
    assert icc.convert_to(red, "adobe_rgb").getpixel((0, 0))[0] < 230


def test_documents_and_their_photographs() -> None:
    text = Path("/usr/share/common-licenses/Apache-2.0")
    for kind in ("receipt", "bill", "ticket") + (("page",) if text.exists() else ()):
        doc = paper.render(kind, 4, text)
        assert doc.tobytes() == paper.render(kind, 4, text).tobytes()
    doc = paper.render("receipt", 4, None)
    table = _scene((400, 300))
    recipe = PaperRecipe("receipt", 4, "table", "desk", 800)
    shot = paper.photographed(doc, table, recipe)
    assert shot.size == (600, 800)
    assert shot.tobytes() == paper.photographed(doc, table, recipe).tobytes()
    assert paper.scanned(doc, PaperRecipe("receipt", 4, "scan")).size == (1275, 1755)


def test_photo_of_a_screen() -> None:
    recipe = ScreenPhotoRecipe("cups", "tv", "desk", 9, 800)
    shot = screen_photo(recipe, _scene((400, 300)), _scene((300, 200)))
    assert shot.size == (800, 600)
    assert shot.tobytes() == screen_photo(recipe, _scene((400, 300)),
                                          _scene((300, 200))).tobytes()
