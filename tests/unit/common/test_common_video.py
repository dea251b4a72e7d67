"""gemroll_common.video on real clips encoded by PyAV's FFmpeg: what the container says, and
key frames at given times without decoding the clip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gemroll_common import video
from gemroll_testkit import clips

WHEN = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
EIFFEL = (48.8584, 2.2945)


@pytest.mark.parametrize(("container", "codec"), [
    ("mp4", "h264"), ("mov", "hevc"), ("m4v", "h264"), ("mkv", "h264"), ("webm", "vp9")])
def test_a_clip_says_what_it_is(tmp_path, container: str, codec: str) -> None:
    path = tmp_path / f"clip.{container}"
    path.write_bytes(clips.clip(container=container, codec=codec, size=(320, 240), fps=24,
                                seconds=2, audio=True, created_at=WHEN))
    facts = video.probe(path)
    assert facts.video_codec == codec
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration_s == pytest.approx(2.0, abs=0.1)
    assert facts.fps == pytest.approx(24)
    assert facts.has_audio and facts.rotation == 0
    assert facts.created_at == WHEN


@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_location_and_rotation_are_read_as_phones_write_them(tmp_path, container: str) -> None:
    path = tmp_path / f"clip.{container}"
    path.write_bytes(clips.clip(container=container, size=(320, 240), location=EIFFEL,
                                rotation=90))
    facts = video.probe(path)
    assert facts.location == pytest.approx(EIFFEL)
    assert facts.rotation in (90, 270) and (facts.width, facts.height) == (240, 320)
    frame = next(video.sample_frames(path, [0.5], long_side=160))
    assert frame.image.size == (120, 160)


def test_frames_are_key_frames_at_most_once_each_and_scaled_down(tmp_path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(clips.clip(size=(640, 360), fps=24, seconds=4, gop=24))
    times = video.frame_times(4.0, 8)
    frames = list(video.sample_frames(path, times, long_side=320))
    assert [round(f.time_s) for f in frames] == [0, 1, 2, 3]
    assert all(f.image.size == (320, 180) and f.image.mode == "RGB" for f in frames)


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 20,
    b"not a video at all",
    b""])
def test_what_is_no_video_is_unreadable(tmp_path, data: bytes) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with pytest.raises(video.VideoUnreadable):
        video.probe(path)


def test_a_truncated_mp4_is_unreadable(tmp_path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(clips.clip(seconds=2)[:5_000])
    with pytest.raises(video.VideoUnreadable):
        video.probe(path)


def test_a_photo_is_no_video(tmp_path) -> None:
    from gemroll_testkit import photos
    path = tmp_path / "photo.jpg"
    path.write_bytes(photos.jpeg())
    with pytest.raises(video.VideoUnreadable):
        video.probe(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("+48.8584+002.2945+035.000/", (48.8584, 2.2945)),
    ("-33.8688+151.2093/", (-33.8688, 151.2093)),
    ("+91.0000+002.0000/", None), ("", None), (None, None), ("garbage", None)])
def test_iso6709(text: str | None, expected) -> None:
    assert video.parse_iso6709(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-05-01T12:30:00.000000Z", WHEN), ("2026-05-01T14:30:00+02:00", WHEN),
    ("1904-01-01T00:00:00Z", None), ("1970-01-01T00:00:00Z", None), ("soon", None),
    (None, None)])
def test_creation_time(text: str | None, expected) -> None:
    assert video.parse_creation_time(text) == expected


def test_frame_times_spread_over_the_clip() -> None:
    assert video.frame_times(10.0, 5) == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert video.frame_times(0.0, 5) == [] and video.frame_times(10.0, 0) == []


@pytest.mark.parametrize("container", ["mp4", "mov", "mkv", "webm"])
def test_a_clip_cut_short_behind_its_index_is_found(tmp_path, container: str) -> None:
    """An upload that stops early keeps a header that promises the whole clip (MP4 with its
    index first, Matroska's duration): the packets tell."""
    codec = "vp9" if container == "webm" else "h264"
    whole = clips.clip(container=container, codec=codec, seconds=4, size=(320, 240),
                       options={"movflags": "faststart"} if container != "mkv" and
                       container != "webm" else None)
    path = tmp_path / f"clip.{container}"
    path.write_bytes(whole)
    video.check_complete(path, video.probe(path))
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(video.VideoUnreadable, match="stops|breaks|readable"):
        video.check_complete(path, video.probe(path))
