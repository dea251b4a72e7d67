"""Image validation with Pillow on generated files (no infrastructure)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gemroll_ingest.adapters.images import PillowInspector
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.media import StagedFile
from gemroll_testkit import photos
from PIL import Image


@pytest.fixture
def inspector() -> PillowInspector:
    return PillowInspector(max_pixels=50_000_000, full_decode_max_pixels=1_000_000)


def staged(tmp_path: Path, data: bytes) -> StagedFile:
    path = tmp_path / hashlib.sha256(data).hexdigest()[:12]
    path.write_bytes(data)
    return StagedFile(str(path), len(data), hashlib.sha256(data).hexdigest(), data[:64])


async def test_jpeg_exif_is_read(inspector, tmp_path):
    data = photos.jpeg(size=(320, 200), exif=photos.exif(
        make="Canon\x00", model="EOS R5", orientation=8, taken="2024:05:06 07:08:09",
        offset="+02:00", gps=(-33.8688, 151.2093)))
    facts = await inspector.inspect(staged(tmp_path, data))
    assert (facts.content_type, facts.width, facts.height) == ("image/jpeg", 320, 200)
    assert (facts.camera_make, facts.camera_model, facts.orientation) == ("Canon", "EOS R5", 8)
    assert facts.capture.at == datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC)
    assert facts.gps.latitude == pytest.approx(-33.8688, abs=1e-5)
    assert facts.gps.longitude == pytest.approx(151.2093, abs=1e-5)


@pytest.mark.parametrize(("make", "content_type"), [
    (lambda: photos.heic(exif=photos.exif(make="Apple", gps=(1.5, 2.5))), "image/heic"),
    (lambda: photos.avif(exif=photos.exif(make="Apple", gps=(1.5, 2.5))), "image/avif"),
    (photos.png, "image/png"),
    (photos.webp, "image/webp"),
])
async def test_other_formats(inspector, tmp_path, make, content_type):
    facts = await inspector.inspect(staged(tmp_path, make()))
    assert (facts.content_type, facts.width, facts.height) == (content_type, 96, 64)
    if content_type in ("image/heic", "image/avif"):
        assert facts.camera_make == "Apple" and facts.gps.latitude == pytest.approx(1.5)


@pytest.mark.parametrize("make", [photos.jpeg, photos.png, photos.webp, photos.heic,
                                  photos.avif])
@pytest.mark.parametrize("keep", [0.3, 0.9])
async def test_truncated_images_are_invalid(inspector, tmp_path, make, keep):
    with pytest.raises(errors.InvalidImage):
        await inspector.inspect(staged(tmp_path, photos.truncated(make(), keep)))


async def test_corrupted_png_is_invalid(inspector, tmp_path):
    data = bytearray(photos.png())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(errors.InvalidImage):
        await inspector.inspect(staged(tmp_path, bytes(data)))


async def test_large_png_is_checked_by_crc_without_full_decode(tmp_path):
    inspector = PillowInspector(max_pixels=50_000_000, full_decode_max_pixels=100)
    assert (await inspector.inspect(staged(tmp_path, photos.png()))).width == 96
    data = bytearray(photos.png())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(errors.InvalidImage):
        await inspector.inspect(staged(tmp_path, bytes(data)))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_bombs_are_refused_before_decoding(tmp_path, monkeypatch):
    inspector = PillowInspector(max_pixels=2_000_000, full_decode_max_pixels=1_000_000)
    with pytest.raises(errors.TooManyPixels):
        await inspector.inspect(staged(tmp_path, photos.bomb_png(2_000_001)))
    # Pillow's own guard (an error above twice its process-wide limit) is a refusal too.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    lenient = PillowInspector(max_pixels=10_000_000, full_decode_max_pixels=1_000_000)
    with pytest.raises(errors.TooManyPixels):
        await lenient.inspect(staged(tmp_path, photos.bomb_png(2_100_000)))


async def test_unsupported_and_empty(inspector, tmp_path):
    with pytest.raises(errors.UnsupportedMediaType):
        await inspector.inspect(staged(tmp_path, b"GIF89a" + bytes(100)))
    with pytest.raises(errors.EmptyFile):
        await inspector.inspect(staged(tmp_path, b""))


async def test_a_jpeg_header_on_other_data_is_invalid(inspector, tmp_path):
    with pytest.raises(errors.InvalidImage):
        await inspector.inspect(staged(tmp_path, b"\xff\xd8\xff" + photos.png()))


async def test_webp_too_large_to_verify_is_refused(tmp_path):
    from gemroll_ingest.domain.errors import TooManyPixels
    from PIL import Image

    path = tmp_path / "big.webp"
    Image.new("RGB", (1200, 1000), (90, 120, 200)).save(path, "WEBP", lossless=True)
    inspector = PillowInspector(max_pixels=50_000_000, full_decode_max_pixels=1_000_000)
    with pytest.raises(TooManyPixels, match="cannot be verified"):
        inspector.inspect_file(str(path), "image/webp")
