"""Pure video rules: sniffing the five containers from their first bytes (and photos staying
photos), codecs, duration and size limits, the poster frame's time, the event's VideoFacts."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from gemroll_common.sniff import SNIFF_BYTES, sniff_content_type
from gemroll_ingest.domain import errors
from gemroll_ingest.domain import video as rules
from gemroll_ingest.domain.exif import GpsFix
from gemroll_ingest.domain.media import (
    ClientMetadata,
    ImageFacts,
    StagedFile,
    media_uploaded,
    new_media,
    poster_key,
)
from gemroll_ingest.domain.video import VideoInfo
from gemroll_testkit import clips, photos

USER = "ab" * 32


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08free"


def ebml(doc_type: bytes) -> bytes:
    """An EBML header as muxers write it: version elements, then DocType."""
    body = (b"\x42\x86\x81\x01" + b"\x42\xf7\x81\x01" + b"\x42\xf2\x81\x04" + b"\x42\xf3\x81\x08"
            + b"\x42\x82" + bytes([0x80 | len(doc_type)]) + doc_type + b"\x42\x87\x81\x04")
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


@pytest.mark.parametrize(("head", "expected"), [
    (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    (ftyp(b"mp42", b"mp41", b"isom"), "video/mp4"),
    (ftyp(b"iso5", b"dash"), "video/mp4"),
    (ftyp(b"XAVC", b"mp42", b"iso2"), "video/mp4"),
    (ftyp(b"xxxx", b"mp42"), "video/mp4"),  # a camera's own major brand, mp4-compatible
    (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    (ftyp(b"M4V ", b"M4V ", b"mp42", b"isom"), "video/x-m4v"),
    (ebml(b"webm"), "video/webm"),
    (ebml(b"matroska"), "video/x-matroska"),
    (ebml(b"other"), None),
    (ftyp(b"M4A ", b"mp42", b"isom"), None),  # audio only
    (ftyp(b"xxxx", b"mif1", b"mp42"), None),  # an image brand among them: no guessing
])
def test_videos_are_sniffed_from_their_container_header(head, expected):
    assert sniff_content_type(head[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize(("container", "codec", "expected"), [
    ("mp4", "h264", "video/mp4"), ("mp4", "hevc", "video/mp4"), ("mov", "hevc", "video/quicktime"),
    ("m4v", "h264", "video/x-m4v"), ("mkv", "h264", "video/x-matroska"),
    ("webm", "vp9", "video/webm"),
])
def test_real_clips_are_sniffed(container, codec, expected):
    data = clips.clip(container=container, codec=codec, seconds=0.25, size=(64, 48))
    assert sniff_content_type(data[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize("head", [
    b"\x1a\x45\xdf\xa3", b"\x1a\x45\xdf\xa3\x9f\x42\x86", ebml(b"matroska")[:24],
    b"\x1a\x45\xdf\xa3\x00\x00", b"\x00\x00\x00\x20ftypis", b"\x00\x00\x00\x20ftyp",
    b"\x00\x00\x00", b"\x1a\x45\xdf\xa3\x9f" + b"\xff" * 40,
])
def test_truncated_headers_are_nothing_and_never_crash(head):
    assert sniff_content_type(head) is None


def test_photos_stay_photos():
    assert sniff_content_type(photos.jpeg()[:SNIFF_BYTES]) == "image/jpeg"
    assert sniff_content_type(photos.heic()[:SNIFF_BYTES]) == "image/heic"
    assert sniff_content_type(photos.avif()[:SNIFF_BYTES]) == "image/avif"
    assert sniff_content_type(ftyp(b"mif1", b"heic", b"miaf")) == "image/heic"
    assert sniff_content_type(ftyp(b"msf1", b"hevc", b"iso8")) == "image/heic"
    assert sniff_content_type(ftyp(b"heic", b"mif1", b"mp42")) == "image/heic"


@pytest.mark.parametrize(("decoder", "codec"), [
    ("h264", "h264"), ("hevc", "hevc"), ("vp9", "vp9"), ("libdav1d", "av1"), ("av1", "av1"),
])
def test_accepted_codecs(decoder, codec):
    assert rules.check_codec(decoder) == codec


@pytest.mark.parametrize("decoder", ["mpeg4", "mjpeg", "vp8", "prores", "mpeg2video"])
def test_other_codecs_are_refused_with_415(decoder):
    with pytest.raises(errors.UnsupportedCodec, match="H.264, HEVC, VP9 or AV1") as refused:
        rules.check_codec(decoder)
    assert isinstance(refused.value, errors.UnsupportedMediaType)
    assert refused.value.code == "unsupported_codec"


def test_duration_limit():
    rules.check_duration(600.0, 600)
    with pytest.raises(errors.VideoTooLong, match="600.5 s long; the limit is 600 s"):
        rules.check_duration(600.5, 600)


def test_size_limits_depend_on_the_kind():
    mp4, jpeg = ftyp(b"isom", b"mp41"), photos.jpeg()[:SNIFF_BYTES]
    limits = {"photo_bytes": 100, "video_bytes": 1000}
    assert rules.size_limit(mp4, **limits) == 1000
    assert rules.size_limit(jpeg, **limits) == 100
    assert rules.size_limit(b"\xff\xd8", **limits) == 1000  # not known yet: the larger
    assert rules.size_limit(bytes(SNIFF_BYTES), **limits) == 100  # known not to be a video
    rules.check_size(mp4, 1000, **limits)
    with pytest.raises(errors.TooLarge, match="video is larger than the limit of 1000"):
        rules.check_size(mp4, 1001, **limits)
    with pytest.raises(errors.TooLarge, match="file is larger than the limit of 100"):
        rules.check_size(jpeg, 101, **limits)


@pytest.mark.parametrize(("counter_clockwise", "expected"), [
    (0, 0), (90, 270), (-90, 90), (180, 180), (270, 90), (-180.0, 180), (89.6, 270),
])
def test_rotation_is_announced_clockwise(counter_clockwise, expected):
    assert rules.clockwise(counter_clockwise) == expected


@pytest.mark.parametrize(("duration", "times"), [
    (30.0, [1.0, 0.0]), (5.0, [0.5, 0.0]), (0.2, [pytest.approx(0.02), 0.0]), (0.0, [0.0]),
])
def test_poster_time_is_10_percent_or_1_s_then_the_first_key_frame(duration, times):
    assert rules.poster_times(duration) == times


def test_a_video_record_announces_video_facts_and_only_a_coarse_location():
    media_id, data = uuid.uuid4(), b"clip"
    staged = StagedFile("/x", len(data), hashlib.sha256(data).hexdigest(), data)
    facts = ImageFacts(content_type="video/quicktime", width=1080, height=1920,
                       gps=GpsFix(48.8584, 2.2945),
                       video=VideoInfo(12.5, 29.97, "hevc", True, 90), poster=b"jpeg")
    record = new_media(media_id=media_id, user_key=USER, staged=staged, facts=facts,
                       client=ClientMetadata(), source="direct")
    assert record.media_kind == "video" and record.gps == GpsFix(48.8584, 2.2945)
    assert record.poster_key == poster_key(USER, media_id)
    assert record.poster_key == f"users/{USER}/posters/{media_id}.jpg"
    event = media_uploaded(record, "bucket").data
    assert event.media_kind == "video" and event.content_type == "video/quicktime"
    assert (event.width, event.height, event.coarse_location) == (1080, 1920, "u09tu")
    assert event.video is not None
    assert event.video.model_dump() == {"duration_s": 12.5, "fps": 29.97, "video_codec": "hevc",
                                        "has_audio": True, "rotation": 90,
                                        "poster_key": record.poster_key}
    assert b"48.85" not in media_uploaded(record, "bucket").to_json()


def test_a_photo_record_stays_a_photo():
    data = b"img"
    staged = StagedFile("/x", 3, hashlib.sha256(data).hexdigest(), data)
    record = new_media(media_id=uuid.uuid4(), user_key=USER, staged=staged,
                       facts=ImageFacts("image/jpeg", 4, 3), client=ClientMetadata(),
                       source="direct")
    event = media_uploaded(record, "bucket").data
    assert (record.media_kind, record.poster_key, event.media_kind, event.video) == (
        "photo", None, "photo", None)
