"""Pixel variants and file writers of the sample roll, on small images."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from gemroll_dev.samples import catalog, imaging
from gemroll_dev.samples.build import make_photo, realise
from gemroll_dev.samples.encode import exif_bytes, write_image, write_png16
from gemroll_dev.samples.manifest import GpsPoint, ImageFormat
from gemroll_dev.samples.plan import Crop, Effect, Encoding, ExifSpec, plan_camera_roll
from gemroll_dev.samples.system import photo_path
from PIL import ExifTags, Image, ImageChops, ImageOps

WHEN = datetime(2024, 5, 18, 14, 32, 5, 123000, tzinfo=timezone(timedelta(hours=1)))
EXIF = ExifSpec("Apple", "iPhone 13 Pro", "17.5.1", "back camera", 5.7, 64, 1 / 120, 1.5,
                GpsPoint(lat=38.7139, lon=-9.1394))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A real photo that ships in the scikit-image wheel, reduced for speed."""
    image = Image.open(photo_path(catalog.PHOTO_BY_KEY["astronaut"])).convert("RGB")
    return image.resize((256, 256))


def test_blurs_remove_most_detail(photo: Image.Image) -> None:
    sharp = imaging.laplacian_variance(photo)
    assert imaging.laplacian_variance(imaging.gaussian_blur(photo, 4)) < sharp / 10
    assert imaging.laplacian_variance(imaging.motion_blur(photo, 16, 30)) < sharp / 4
    assert imaging.motion_blur(photo, 40, 100).size == photo.size


def test_effects_keep_size_and_dark_is_dark(photo: Image.Image) -> None:
    rng = np.random.default_rng(0)
    for effect in (Effect(), Effect("gaussian_blur", 0.01), Effect("soft", 0.001, gain=1.05),
                   Effect("motion_blur", 0.05, 45.0), Effect("dark", 0.05)):
        assert imaging.apply_effect(photo, effect, rng).size == photo.size
    dark = imaging.underexpose(photo, 0.05, np.random.default_rng(1))
    assert 0.02 < imaging.mean_luma(dark) < 0.12
    assert imaging.mean_luma(photo) > 0.3


def test_finish_is_deterministic_per_seed(photo: Image.Image) -> None:
    a = imaging.camera_finish(photo, 2.0, np.random.default_rng(5))
    b = imaging.camera_finish(photo, 2.0, np.random.default_rng(5))
    c = imaging.camera_finish(photo, 2.0, np.random.default_rng(6))
    assert a.tobytes() == b.tobytes() != c.tobytes()


def test_crop_and_mirror(photo: Image.Image) -> None:
    left = imaging.crop(photo, Crop(0, 0, 0.5, 1))
    assert left.size == (128, 256)
    mirrored = imaging.crop(photo, Crop(0, 0, 0.5, 1, flip=True))
    assert ImageOps.mirror(mirrored).tobytes() == left.tobytes()
    assert imaging.resize_long(left, 64).size == (32, 64)


def test_exif_carries_camera_time_and_gps() -> None:
    image = Image.new("RGB", (8, 8))
    image.info["exif"] = exif_bytes(EXIF, WHEN, orientation=6)
    exif = Image.Exif()
    exif.load(image.info["exif"])
    assert (exif[ExifTags.Base.Make], exif[ExifTags.Base.Model]) == ("Apple", "iPhone 13 Pro")
    assert exif[ExifTags.Base.Orientation] == 6
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    assert sub[ExifTags.Base.DateTimeOriginal] == "2024:05:18 14:32:05"
    assert sub[ExifTags.Base.OffsetTimeOriginal] == "+01:00"
    assert sub[ExifTags.Base.SubsecTimeOriginal] == "123"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = sum(float(v) / 60**i for i, v in enumerate(gps[ExifTags.GPS.GPSLatitude]))
    assert gps[ExifTags.GPS.GPSLongitudeRef] == "W" and lat == pytest.approx(38.7139, abs=1e-4)
    assert gps[ExifTags.GPS.GPSDateStamp] == f"{WHEN.astimezone(UTC):%Y:%m:%d}"


def test_orientation_6_stores_the_picture_sideways(tmp_path: Path, photo: Image.Image) -> None:
    upright = photo.crop((0, 0, 160, 256))  # portrait
    path = tmp_path / "IMG_0001.JPG"
    stored = write_image(path, upright, Encoding(ImageFormat.jpeg, 95, orientation=6, exif=EXIF),
                         WHEN)
    assert stored == (256, 160)
    with Image.open(path) as image:
        assert image.size == (256, 160)
        shown = ImageOps.exif_transpose(image)
    assert shown.size == upright.size
    diff = np.asarray(ImageChops.difference(shown.convert("RGB"), upright), dtype=np.float32)
    assert diff.mean() < 4
    assert path.stat().st_mtime == pytest.approx(WHEN.timestamp())


@pytest.mark.parametrize(("fmt", "mode", "expected_mode", "expected_format"), [
    (ImageFormat.jpeg, "L", "L", "JPEG"),
    (ImageFormat.jpeg, "CMYK", "CMYK", "JPEG"),
    (ImageFormat.heic, "RGB", "RGB", "HEIF"),
    (ImageFormat.webp, "RGB", "RGB", "WEBP"),
    (ImageFormat.png, "RGB16", "RGB", "PNG"),
])
def test_formats_and_modes(tmp_path: Path, photo: Image.Image, fmt: ImageFormat, mode: str,
                           expected_mode: str, expected_format: str) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / f"item.{fmt.value}"
    write_image(path, photo, Encoding(fmt, 85, mode, exif=EXIF), WHEN)  # type: ignore[arg-type]
    with Image.open(path) as image:
        assert image.format == expected_format
        assert image.mode == expected_mode
        assert image.size == photo.size
        assert image.getexif()[ExifTags.Base.Model] == "iPhone 13 Pro"


def test_png16_is_really_sixteen_bits(tmp_path: Path) -> None:
    rgb16 = np.arange(4 * 6 * 3, dtype=np.uint16).reshape(4, 6, 3) * 1000
    path = tmp_path / "deep.png"
    write_png16(path, rgb16)
    data = path.read_bytes()
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (6, 4, 16, 2)
    with Image.open(path) as image:
        image.load()
        assert image.size == (6, 4)
    with pytest.raises(ValueError):
        write_png16(path, rgb16.astype(np.uint8))  # type: ignore[arg-type]


def test_items_from_python_shipped_photos_are_byte_reproducible(tmp_path: Path) -> None:
    items = [i for i in plan_camera_roll("demo", 0) if hasattr(i.recipe, "source")
             and catalog.PHOTO_BY_KEY[i.recipe.source].kind == "python"][:3]
    assert items
    for item in items:
        first = realise(item, tmp_path, None)
        (tmp_path / item.file_name).rename(tmp_path / f"first-{item.file_name}")
        assert realise(item, tmp_path, None) == first
        assert make_photo(item.recipe).size[0] > 0
