"""Pure video rules: which codecs are taken, how long and large a clip may be, when its
poster frame is taken."""

from __future__ import annotations

from dataclasses import dataclass

from gemroll_common.sniff import SNIFF_BYTES, sniff_content_type

from . import errors

ACCEPTED_CODECS = ("h264", "hevc", "vp9", "av1")
_CODEC_ALIASES = {"libdav1d": "av1", "libaom-av1": "av1", "av1_cuvid": "av1",
                  "libvpx-vp9": "vp9", "h265": "hevc", "avc": "h264"}
POSTER_MAX_AT_S = 1.0
POSTER_SHARE = 0.1


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a clip (its exact location travels as a GpsFix)."""

    duration_s: float
    fps: float | None
    video_codec: str
    has_audio: bool
    rotation: int = 0
    """Degrees clockwise to display upright (the contract's sense)."""


def is_video(content_type: str | None) -> bool:
    return content_type is not None and content_type.startswith("video/")


def media_kind(content_type: str) -> str:
    return "video" if is_video(content_type) else "photo"


def codec_name(decoder: str) -> str:
    """FFmpeg's decoder name as the codec it decodes (`libdav1d` -> `av1`)."""
    name = decoder.strip().lower()
    return _CODEC_ALIASES.get(name, name)


def clockwise(counter_clockwise: float) -> int:
    """The display matrix's angle (FFmpeg and PyAV read it counter-clockwise) as the degrees
    clockwise, 0/90/180/270, that turn the coded frames upright."""
    return (-round(counter_clockwise / 90) * 90) % 360


def check_codec(decoder: str) -> str:
    """The codec's name; UnsupportedCodec (415) for anything but H.264, HEVC, VP9 and AV1."""
    codec = codec_name(decoder)
    if codec not in ACCEPTED_CODECS:
        raise errors.UnsupportedCodec(
            f"videos must be H.264, HEVC, VP9 or AV1; this one is {codec[:32]!r}")
    return codec


def check_duration(duration_s: float, limit_s: float) -> None:
    if duration_s > limit_s:
        raise errors.VideoTooLong(
            f"the video is {duration_s:.1f} s long; the limit is {limit_s:g} s")


def size_limit(head: bytes, *, photo_bytes: int, video_bytes: int) -> int:
    """The byte limit for a file starting with `head`: a video's or a photo's. Before enough
    of the head has arrived to tell, the larger one."""
    content_type = sniff_content_type(head)
    if is_video(content_type):
        return video_bytes
    if content_type is None and len(head) < SNIFF_BYTES:
        return max(photo_bytes, video_bytes)
    return photo_bytes


def check_size(head: bytes, size: int, *, photo_bytes: int, video_bytes: int) -> None:
    """TooLarge (413) when the file is over its kind's limit."""
    limit = size_limit(head, photo_bytes=photo_bytes, video_bytes=video_bytes)
    if size > limit:
        what = "video" if is_video(sniff_content_type(head)) else "file"
        raise errors.TooLarge(f"the {what} is larger than the limit of {limit} bytes")


def poster_times(duration_s: float) -> list[float]:
    """When the poster frame is taken: at 10 % of the clip or 1 s, whichever comes first;
    else the first key frame."""
    first = max(0.0, min(duration_s * POSTER_SHARE, POSTER_MAX_AT_S))
    return [first, 0.0] if first > 0 else [0.0]
