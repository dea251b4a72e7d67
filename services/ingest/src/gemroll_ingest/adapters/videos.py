"""Video validation with `gemroll_common.video` (PyAV): what the container says, a codec and
duration check, and one frame that really decodes, kept as the poster (a JPEG, no metadata).

Never decodes the whole clip: `probe` reads the headers and one frame, `check_complete` reads
the packets without decoding them, the poster is one key frame, scaled down by FFmpeg. A clip
FFmpeg cannot read, whose stream stops before its end, or whose frames do not decode (a
truncated upload), is refused as `invalid_video` (422).
"""

from __future__ import annotations

import asyncio
import io

from gemroll_common import video as av_video
from PIL import Image

from ..domain import video as rules
from ..domain.errors import InvalidVideo, TooManyPixels
from ..domain.exif import CaptureTime, GpsFix
from ..domain.media import ImageFacts
from ..domain.video import VideoInfo

POSTER_LONG_SIDE = 1280
POSTER_QUALITY = 85
_DECODE_ERRORS = (av_video.VideoUnreadable, OSError, ValueError, EOFError, IndexError,
                  KeyError, TypeError, RuntimeError, StopIteration)


class VideoInspector:
    """Inspects a spooled video file; `slots` bounds how many are decoded at once."""

    def __init__(self, *, max_duration_s: float, max_pixels: int,
                 slots: asyncio.Semaphore | None = None) -> None:
        self.max_duration_s = max_duration_s
        self.max_pixels = max_pixels
        self._slots = slots or asyncio.Semaphore(2)

    async def inspect(self, path: str, content_type: str) -> ImageFacts:
        async with self._slots:
            return await asyncio.to_thread(self.inspect_file, path, content_type)

    def inspect_file(self, path: str, content_type: str) -> ImageFacts:
        """Blocking: probe, check codec, duration and size, decode the poster frame."""
        try:
            probe = av_video.probe(path)
            av_video.check_complete(path, probe)
        except _DECODE_ERRORS as exc:
            raise InvalidVideo(f"the video is corrupt or truncated: {exc}") from None
        codec = rules.check_codec(probe.video_codec)
        rules.check_duration(probe.duration_s, self.max_duration_s)
        if probe.width * probe.height > self.max_pixels:
            raise TooManyPixels(f"{probe.width}x{probe.height} frames are over the limit of "
                                f"{self.max_pixels} pixels")
        poster = _poster(path, rules.poster_times(probe.duration_s))
        return ImageFacts(
            content_type=content_type, width=probe.width, height=probe.height,
            capture=CaptureTime(probe.created_at, had_offset=True) if probe.created_at else None,
            gps=GpsFix(*probe.location) if probe.location else None,
            video=VideoInfo(duration_s=probe.duration_s, fps=probe.fps, video_codec=codec,
                            has_audio=probe.has_audio,
                            rotation=rules.clockwise(probe.rotation)),
            poster=poster)


def _poster(path: str, times: list[float]) -> bytes:
    """The first of `times` whose key frame decodes, as a JPEG; InvalidVideo when none does."""
    failure = "no frame"
    for time_s in times:
        try:
            frame = next(av_video.sample_frames(path, [time_s], long_side=POSTER_LONG_SIDE),
                         None)
        except _DECODE_ERRORS as exc:
            failure = str(exc)
            continue
        if frame is not None:
            return jpeg(frame.image)
    raise InvalidVideo(f"the video is corrupt or truncated: no frame decodes ({failure})")


def jpeg(image: Image.Image) -> bytes:
    """A baseline JPEG of the pixels only: no EXIF, no comment, no thumbnail."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=POSTER_QUALITY, optimize=True)
    return buffer.getvalue()
