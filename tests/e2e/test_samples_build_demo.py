"""Builds the demo roll for real (Chromium screenshots, Debian photos, clips over real photos
and a real phone clip) and checks every file against its manifest entry. Installs the Debian
packages it needs when they are missing."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from gemroll_common.video import probe, sample_frames
from gemroll_dev.samples import Manifest, build_camera_roll, plan_camera_roll
from gemroll_dev.samples.imaging import laplacian_variance, mean_luma
from gemroll_dev.samples.reuse import current_roll
from gemroll_dev.samples.video_plan import plan_clips
from PIL import ExifTags, Image, ImageOps

pytestmark = pytest.mark.slow

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}


@pytest.fixture(scope="module")
def demo_roll(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("roll")
    return out, build_camera_roll(out, "demo", seed=0)


def test_manifest_on_disk_matches_the_plan(demo_roll: tuple[Path, Manifest]) -> None:
    out, manifest = demo_roll
    assert Manifest.read(out) == manifest
    plan = plan_camera_roll("demo", 0)
    photos = [i for i in manifest.items if i.video is None]
    assert [(i.file_name, i.category, i.quality, i.burst_id, i.is_best_shot)
            for i in photos] == [
        (p.file_name, p.category, p.quality, p.burst_id, p.is_best_shot) for p in plan]
    clips = [i for i in manifest.items if i.video is not None]
    assert manifest.items == photos + clips  # the clips follow the photos
    assert [(i.file_name, i.quality, i.expected_gem, i.junk_reason) for i in clips] == [
        (c.file_name, c.quality, c.expected_gem, c.junk_reason) for c in plan_clips("demo", 0)]
    assert current_roll(out, "demo", 0) == manifest  # the demo reuses it as it is
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [i.file_name for i in manifest.items] + ["manifest.json"])
    counts = manifest.counts()
    assert counts["gems"] >= 15 and counts["bursts"] >= 2
    assert counts["screenshot/good"] >= 8 and counts["document/good"] >= 5


def test_every_file_is_what_the_manifest_says(demo_roll: tuple[Path, Manifest]) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out, manifest = demo_roll
    for item in manifest.items:
        if item.video is not None:
            continue  # test_clips_are_real_videos
        path = out / item.file_name
        data = path.read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (item.size_bytes, item.sha256)
        assert path.stat().st_mtime == pytest.approx(item.captured_at.timestamp())
        with Image.open(path) as image:
            assert image.format == _PIL_FORMATS[item.format]
            assert image.size == (item.pixel_width, item.pixel_height)
            exif = image.getexif()
            upright = ImageOps.exif_transpose(image)
        assert upright.size == (item.width, item.height), item.file_name
        if item.camera is None:
            assert ExifTags.Base.Model not in exif or item.category.value == "document"
        else:
            assert exif[ExifTags.Base.Make] == item.camera.make
        if item.category.value == "screenshot":
            assert not exif.get(ExifTags.Base.Make)
        if item.quality.value == "dark":
            assert mean_luma(upright) < 0.12


def test_special_files_are_present(demo_roll: tuple[Path, Manifest]) -> None:
    _, manifest = demo_roll
    kinds = Counter((i.format.value, i.pixel_mode, i.orientation) for i in manifest.items)
    for wanted in [("heic", "RGB", 1), ("webp", "RGB", 1), ("jpeg", "RGB", 6),
                   ("jpeg", "L", 1), ("jpeg", "CMYK", 1), ("png", "RGB16", 1)]:
        assert kinds[wanted] >= 1, wanted
    sources = {i.source.package for i in manifest.items}
    assert {"scikit-image", "lomiri-wallpapers-16.04", "mate-backgrounds", "chromium"} <= sources


def test_burst_best_shot_is_the_sharpest(demo_roll: tuple[Path, Manifest]) -> None:
    out, manifest = demo_roll
    bursts: dict[str, list] = {}
    for item in manifest.items:
        if item.burst_id:
            with Image.open(out / item.file_name) as image:
                sharpness = laplacian_variance(ImageOps.exif_transpose(image))
            bursts.setdefault(item.burst_id, []).append((sharpness, item.is_best_shot))
    for frames in bursts.values():
        assert max(frames)[1], frames


def test_bench_jpegs_are_distinct_12_megapixel_phone_photos(tmp_path: Path) -> None:
    from gemroll_dev.samples import build_bench_jpegs

    paths = build_bench_jpegs(tmp_path, 2, seed=0, workers=1)
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}) == 2
    for path in paths:
        with Image.open(path) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (4032, 3024), "RGB")
            assert image.getexif()[ExifTags.Base.Model] == "iPhone 13 Pro"
            assert 1 <= image.quantization[0][0] <= 4  # luminance DC step of quality ~90
    stamps = [(p.stat().st_ino, p.stat().st_ctime_ns) for p in paths]
    assert build_bench_jpegs(tmp_path, 2, seed=0) == paths  # reused, not rebuilt
    assert [(p.stat().st_ino, p.stat().st_ctime_ns) for p in paths] == stamps


def test_clips_are_real_videos_as_the_manifest_says(demo_roll: tuple[Path, Manifest]) -> None:
    out, manifest = demo_roll
    clips = {i.variant: i for i in manifest.items if i.video is not None}
    assert sorted(clips) == ["clip:dark", "clip:pan", "clip:pocket", "clip:real", "clip:shake"]
    for item in clips.values():
        path = out / item.file_name
        data = path.read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (item.size_bytes, item.sha256)
        assert path.stat().st_mtime == pytest.approx(item.captured_at.timestamp())
        facts = probe(path)
        assert (facts.width, facts.height, facts.video_codec) == (
            item.width, item.height, item.video.codec)
        assert facts.duration_s == pytest.approx(item.video.duration_s, abs=0.01)
        assert facts.has_audio and facts.created_at is not None
        assert abs(facts.created_at - item.captured_at) < timedelta(seconds=1), item.file_name
        located = facts.location is not None
        assert located == (item.gps is not None), item.file_name
        if located:
            assert facts.location == pytest.approx((item.gps.lat, item.gps.lon), abs=1e-4)
    assert clips["clip:real"].source.package == "forensics-samples-files"
    assert (clips["clip:real"].width, clips["clip:real"].video.codec) == (1920, "h264")
    assert {clips[k].format.value for k in ("clip:shake", "clip:dark")} == {"mov"}
    assert probe(out / clips["clip:shake"].file_name).video_codec == "hevc"
    lumas = {k: _mean_luma(out / clips[k].file_name) for k in ("clip:pan", "clip:dark",
                                                              "clip:pocket")}
    assert lumas["clip:pocket"] < lumas["clip:dark"] < 0.05 < 0.3 < lumas["clip:pan"], lumas


def _mean_luma(path: Path) -> float:
    frames = list(sample_frames(path, [1.0, 2.0, 3.0]))
    return sum(mean_luma(f.image) for f in frames) / len(frames)


def test_clips_are_the_same_bytes_when_built_again(demo_roll: tuple[Path, Manifest],
                                                   tmp_path: Path) -> None:
    from gemroll_dev.samples.video_build import build_clips

    _, manifest = demo_roll
    again = build_clips(plan_clips("demo", 0), tmp_path)
    assert again == [i for i in manifest.items if i.video is not None]
