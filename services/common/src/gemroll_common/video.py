"""Reading videos with PyAV (the FFmpeg it bundles; no system ffmpeg): what the container says
(`probe`), and a bounded number of frames at given times (`sample_frames`).

Neither ever decodes a whole clip: `probe` reads the headers and at most one frame (for the
rotation); `sample_frames` seeks to each time and decodes only key frames there
(`skip_frame="NONKEY"`), scaled down by FFmpeg before they reach Python. Cost and memory grow
with the number of frames asked for, not with the clip's length or frame rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

QUICKTIME_LOCATION = "com.apple.quicktime.location.ISO6709"
VIDEO_DEMUXERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
"""The containers read as videos (ISO BMFF and Matroska); FFmpeg opens a JPEG as a one-frame
"video" too, which is no video here."""
_ISO6709 = re.compile(r"^([+-]\d{1,3}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)")


class VideoUnreadable(ValueError):
    """The bytes are no video FFmpeg can read (truncated, not a container, no video stream)."""


@dataclass(frozen=True)
class VideoProbe:
    container: str
    """FFmpeg's demuxer: `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`."""
    video_codec: str
    width: int
    """Displayed width (after the rotation)."""
    height: int
    duration_s: float
    fps: float | None
    has_audio: bool
    rotation: int
    """Degrees, 0/90/180/270, that the display matrix turns the coded frames."""
    created_at: datetime | None
    location: tuple[float, float] | None
    """(latitude, longitude) from the container's ISO 6709 tag: private, as EXIF GPS is."""


@dataclass(frozen=True)
class SampledFrame:
    time_s: float
    image: Image.Image
    """RGB, upright, at most `long_side` pixels on its longer side."""


def parse_iso6709(text: str | None) -> tuple[float, float] | None:
    """`+48.8584+002.2945+035.000/` -> (48.8584, 2.2945); None when absent or out of range."""
    match = _ISO6709.match((text or "").strip())
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def parse_creation_time(text: str | None) -> datetime | None:
    """The container's `creation_time` (ISO 8601, UTC when no zone is given); 1904/1970 epoch
    placeholders that cameras without a clock write are treated as absent."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return None if value.year < 1990 else value.astimezone(UTC)


def frame_times(duration_s: float, count: int) -> list[float]:
    """`count` times spread evenly over the clip, each in the middle of its share of it."""
    if duration_s <= 0 or count <= 0:
        return []
    return [duration_s * (i + 0.5) / count for i in range(count)]


def probe(path: str | Path) -> VideoProbe:
    """What the container says about the clip at `path`; `VideoUnreadable` when it cannot say."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if container.format.name not in VIDEO_DEMUXERS:
                raise VideoUnreadable(f"not a video container: {container.format.name}")
            if not container.streams.video:
                raise VideoUnreadable("the file has no video stream")
            stream = container.streams.video[0]
            duration_s = _duration_s(container, stream)
            rotation = _rotation(container, stream)
            width, height = stream.codec_context.width, stream.codec_context.height
            if not width or not height or duration_s <= 0:
                raise VideoUnreadable("the video stream has no size or no duration")
            if rotation in (90, 270):
                width, height = height, width
            tags = {k.lower(): v for k, v in {**container.metadata, **stream.metadata}.items()}
            return VideoProbe(
                container=container.format.name, video_codec=stream.codec_context.name,
                width=width, height=height, duration_s=duration_s, fps=_fps(stream),
                has_audio=bool(container.streams.audio), rotation=rotation,
                created_at=parse_creation_time(tags.get("creation_time")),
                location=parse_iso6709(tags.get(QUICKTIME_LOCATION.lower())
                                       or tags.get("location")))
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"not a readable video: {type(exc).__name__}") from exc


def check_complete(path: str | Path, facts: VideoProbe) -> None:
    """`VideoUnreadable` when the video stream stops before the container says it ends (an
    upload cut short behind a complete index). Reads every packet, decodes none: the cost is
    one pass over the file's bytes."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 1000)
            packets, last = 0, 0.0
            for packet in container.demux(stream):
                if packet.size:
                    packets += 1
                    if packet.pts is not None:
                        last = max(last, float((packet.pts - (stream.start_time or 0)) * base))
            expected = stream.frames
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"the video stream breaks off: {type(exc).__name__}") from exc
    frame_s = 1.0 / facts.fps if facts.fps else 0.1
    if expected and packets < expected:
        raise VideoUnreadable(f"the video stream stops after {packets} of {expected} frames")
    if last + max(1.0, 3 * frame_s) < facts.duration_s:
        raise VideoUnreadable(f"the video stream stops at {last:.2f} s of "
                              f"{facts.duration_s:.2f} s")


def sample_frames(path: str | Path, times: Sequence[float], *, long_side: int = 768
                  ) -> Iterator[SampledFrame]:
    """The key frame at or before each of `times` (seconds), each decoded once: two times in
    the same group of pictures give one frame. Frames come upright and scaled down."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            stream.thread_type = "SLICE"  # frame threads would decode ahead of every seek
            base = stream.time_base or Fraction(1, 1000)
            seen: set[int] = set()
            for time_s in times:
                frame = _key_frame_at(container, stream, time_s, base)
                if frame is None or frame.pts in seen:
                    continue
                seen.add(frame.pts)
                yield SampledFrame(time_s=float(frame.pts * base) if frame.pts is not None
                                   else time_s, image=_upright(frame, long_side))
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"not a readable video: {type(exc).__name__}") from exc


def frames_between(path: str | Path, start_s: float, end_s: float, *, fps: float,
                   long_side: int = 768) -> Iterator[SampledFrame]:
    """Every frame of the window [start_s, end_s) at `fps` (the nearest decoded frame to each
    tick), upright and scaled down. Decoding starts at the key frame before `start_s` and stops
    at `end_s`: the cost is the window's (a few seconds), never the clip's."""
    step = 1.0 / fps
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base or Fraction(1, 1000)
            container.seek((stream.start_time or 0) + int(start_s / base), stream=stream,
                           backward=True, any_frame=False)
            wanted, made = max(0, round((end_s - start_s) * fps)), 0
            for frame in container.decode(stream):
                tick = start_s + made * step
                at = float(frame.pts * base) if frame.pts is not None else tick
                if at + step / 2 < tick:
                    continue
                if made >= wanted:
                    return
                image = _upright(frame, long_side)
                while made < wanted and at + step / 2 >= start_s + made * step:
                    yield SampledFrame(time_s=start_s + made * step, image=image)
                    made += 1  # a frame is repeated where the clip is slower than `fps`
    except av.FFmpegError as exc:
        raise VideoUnreadable(f"not a readable video: {type(exc).__name__}") from exc


def _key_frame_at(container: av.container.InputContainer, stream: av.VideoStream,
                  time_s: float, base: Fraction) -> av.VideoFrame | None:
    start = stream.start_time or 0
    container.seek(start + int(time_s / base), stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
        return frame
    return None


def _upright(frame: av.VideoFrame, long_side: int) -> Image.Image:
    scale = min(1.0, long_side / max(frame.width, frame.height))
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    image = frame.reformat(width=width, height=height, format="rgb24").to_image()
    turn = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_270}.get(int(frame.rotation) % 360)
    return image.transpose(turn) if turn else image


def _duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _fps(stream: av.VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    value = float(rate) if rate else 0.0
    return round(value, 3) if math.isfinite(value) and 0 < value <= 1000 else None


def _rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """The display matrix is side data of the first frame in PyAV; one frame is decoded."""
    try:
        frame = next(container.decode(stream), None)
    except av.FFmpegError:
        return 0
    return int(round(frame.rotation)) % 360 if frame is not None else 0
