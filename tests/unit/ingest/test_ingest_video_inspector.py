"""The video adapter on real clips (PyAV, no stack): what the container says, the poster
frame, and every refusal (truncated, junk, codec, length, size); the dispatching inspector."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest
from gemroll_common.media_privacy import find_metadata
from gemroll_ingest.adapters.images import PillowInspector
from gemroll_ingest.adapters.inspector import MediaInspector
from gemroll_ingest.adapters.videos import VideoInspector
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.exif import GpsFix
from gemroll_ingest.domain.media import StagedFile
from gemroll_testkit import clips, photos
from PIL import Image

TAKEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PARIS = (48.8584, 2.2945)


def write(tmp_path, data: bytes) -> str:
    path = tmp_path / "clip"
    path.write_bytes(data)
    return str(path)


def inspector(**overrides) -> VideoInspector:
    return VideoInspector(**{"max_duration_s": 600, "max_pixels": 50_000_000, **overrides})


def test_an_mp4_is_probed_and_gets_a_clean_poster(tmp_path):
    data = clips.clip(container="mp4", codec="h264", seconds=2, audio=True, size=(320, 240))
    facts = inspector().inspect_file(write(tmp_path, data), "video/mp4")

    assert (facts.content_type, facts.width, facts.height) == ("video/mp4", 320, 240)
    assert facts.video is not None
    assert facts.video.duration_s == pytest.approx(2.0, abs=0.1)
    assert (facts.video.fps, facts.video.video_codec, facts.video.has_audio,
            facts.video.rotation) == (24.0, "h264", True, 0)
    assert facts.capture is None and facts.gps is None
    assert facts.poster is not None
    with Image.open(io.BytesIO(facts.poster)) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 240))
    assert find_metadata(facts.poster) == []


def test_a_phone_mov_gives_its_time_exact_location_and_upright_size(tmp_path):
    data = clips.clip(container="mov", codec="hevc", seconds=1, size=(160, 120), rotation=90,
                      created_at=TAKEN, location=PARIS)
    facts = inspector().inspect_file(write(tmp_path, data), "video/quicktime")

    assert (facts.width, facts.height) == (120, 160)  # as displayed
    assert facts.video is not None and facts.video.rotation == 270  # 90 counter-clockwise
    assert facts.video.video_codec == "hevc" and not facts.video.has_audio
    assert facts.capture is not None and facts.capture.at == TAKEN
    assert facts.gps == GpsFix(*PARIS)
    with Image.open(io.BytesIO(facts.poster)) as poster:
        assert poster.size == (120, 160)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_clip_is_an_invalid_video(tmp_path, cut):
    data = clips.clip(container="mp4", seconds=1, size=(160, 120))
    with pytest.raises(errors.InvalidVideo, match="corrupt or truncated"):
        inspector().inspect_file(write(tmp_path, data[: int(len(data) * cut)]), "video/mp4")


def test_junk_behind_an_ftyp_header_is_an_invalid_video(tmp_path):
    junk = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + os.urandom(4096)
    with pytest.raises(errors.InvalidVideo):
        inspector().inspect_file(write(tmp_path, junk), "video/mp4")


def test_a_codec_other_than_h264_hevc_vp9_av1_is_refused(tmp_path):
    with pytest.raises(errors.UnsupportedCodec, match="'mpeg4'"):
        inspector().inspect_file(write(tmp_path, clips.mpeg4_clip()), "video/mp4")


def test_a_clip_over_the_duration_limit_is_refused(tmp_path):
    data = clips.clip(container="webm", codec="vp9", seconds=2, size=(64, 48))
    with pytest.raises(errors.VideoTooLong, match="limit is 1.5 s"):
        inspector(max_duration_s=1.5).inspect_file(write(tmp_path, data), "video/webm")


def test_frames_over_the_pixel_limit_are_refused_before_decoding(tmp_path):
    data = clips.clip(container="mkv", seconds=0.5, size=(160, 120))
    with pytest.raises(errors.TooManyPixels):
        inspector(max_pixels=10_000).inspect_file(write(tmp_path, data), "video/x-matroska")


def staged(tmp_path, data: bytes) -> StagedFile:
    return StagedFile(path=write(tmp_path, data), size=len(data), sha256="0" * 64,
                      head=data[:64])


async def test_the_media_inspector_dispatches_by_the_sniffed_type(tmp_path):
    media = MediaInspector(PillowInspector(50_000_000, 1_000_000), inspector())
    clip = await media.inspect(staged(tmp_path, clips.clip(container="m4v", seconds=0.5)))
    assert clip.content_type == "video/x-m4v" and clip.video is not None
    photo = await media.inspect(staged(tmp_path, photos.jpeg()))
    assert photo.content_type == "image/jpeg" and photo.video is None and photo.poster is None
    with pytest.raises(errors.UnsupportedMediaType, match="MP4, MOV"):
        await media.inspect(staged(tmp_path, b"GIF89a" + bytes(100)))
    with pytest.raises(errors.EmptyFile):
        await media.inspect(staged(tmp_path, b""))
