"""Training copies of videos carry the pictures and nothing else: no location, no creation
time, no audio, in every container phones and cameras write; the audit finds what a copy
would still carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gemroll_common import video, video_privacy
from gemroll_testkit import clips

PRIVATE = dict(audio=True, created_at=datetime(2026, 5, 1, 8, 15, tzinfo=UTC),
               location=(48.8584, 2.2945), rotation=90)


@pytest.mark.parametrize(("container", "codec"), [
    ("mov", "hevc"), ("mov", "h264"), ("mp4", "h264"), ("m4v", "h264"), ("mkv", "h264"),
    ("webm", "vp9")])
def test_a_copy_keeps_the_pictures_and_nothing_private(tmp_path, container, codec) -> None:
    source, copy = tmp_path / f"clip.{container}", tmp_path / "copy.mp4"
    source.write_bytes(clips.clip(container=container, codec=codec, seconds=2, **PRIVATE))
    before = video.probe(source)
    assert before.location == pytest.approx((48.8584, 2.2945)) and before.has_audio
    assert video_privacy.find_metadata(source)  # the audit sees what a phone wrote

    video_privacy.copy_without_metadata(source, copy)
    after = video.probe(copy)
    assert video_privacy.find_metadata(copy) == []
    assert after.location is None and after.created_at is None and not after.has_audio
    assert after.video_codec == codec and after.rotation == before.rotation
    assert after.duration_s == pytest.approx(before.duration_s, abs=0.15)
    assert b"48.8584" not in copy.read_bytes() and b"002.2945" not in copy.read_bytes()
    assert len(list(video.sample_frames(copy, video.frame_times(after.duration_s, 4)))) >= 2


def test_the_audit_names_each_thing_left(tmp_path) -> None:
    source = tmp_path / "clip.mov"
    source.write_bytes(clips.clip(container="mov", **PRIVATE))
    found = video_privacy.find_metadata(source)
    assert any("ISO6709" in f for f in found) and any("creation_time" in f for f in found)
    assert "audio stream 1" in found


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64,
                                  b"just some text"])
def test_what_is_no_video_is_refused_not_copied(tmp_path, data) -> None:
    source, copy = tmp_path / "clip.mp4", tmp_path / "copy.mp4"
    source.write_bytes(data)
    with pytest.raises(video.VideoUnreadable):
        video_privacy.copy_without_metadata(source, copy)


def test_a_trim_runs_from_key_frame_to_key_frame_without_re_encoding(tmp_path) -> None:
    source, trimmed = tmp_path / "clip.mov", tmp_path / "moment.mp4"
    source.write_bytes(clips.clip(container="mov", seconds=10, fps=24, gop=24, **PRIVATE))
    video_privacy.copy_without_metadata(source, trimmed, start_s=3.2, end_s=7.5)
    facts = video.probe(trimmed)
    assert facts.duration_s == pytest.approx(5.0, abs=0.05)  # 3 s .. the key frame at 8 s
    assert video_privacy.find_metadata(trimmed) == []
    first = next(video.sample_frames(trimmed, [0.0]))
    assert first.time_s < 0.1  # the trim starts at its own zero (B-frame delay aside)
