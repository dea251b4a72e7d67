"""Recap movies: a title card, then an event's best photos (a slow zoom) and best video moments,
encoded as H.264 MP4 (no audio) by the FFmpeg that PyAV bundles.

Nothing is distorted: every picture is fitted inside the frame (bars where the aspects differ)
and zoomed uniformly. Frames are made and encoded one at a time, so memory is a few frames
whatever the movie's length; a video moment is decoded for its window only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from gemroll_common.video import VideoUnreadable, frames_between
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (16, 16, 20)


@dataclass(frozen=True)
class Still:
    image: Image.Image


@dataclass(frozen=True)
class Moment:
    path: Path
    """The original video, on local disk."""
    start_s: float
    end_s: float


Shot = Still | Moment


@dataclass(frozen=True)
class RecapStyle:
    width: int = 640
    height: int = 360
    fps: int = 24
    title_s: float = 1.5
    still_s: float = 2.5
    zoom: float = 0.08
    """How much closer a still ends than it starts (a gentle Ken Burns)."""
    max_moment_s: float = 6.0
    crf: int = 26

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 64 or self.height < 64:
            raise ValueError("the movie's size must be even and at least 64 x 64")


@dataclass(frozen=True)
class Recap:
    duration_s: float
    frames: int


def fit(image: Image.Image, width: int, height: int, scale: float = 1.0) -> Image.Image:
    """`image` scaled uniformly by `scale` beyond fitting inside width x height, centred on the
    background and cut to the frame: the same factor on both axes, so nothing is distorted."""
    factor = min(width / image.width, height / image.height) * scale
    w, h = max(1, round(image.width * factor)), max(1, round(image.height * factor))
    # the source box that lands inside the frame (whole image unless zoomed past the frame)
    box_w = min(image.width, min(w, width) / factor)
    box_h = min(image.height, min(h, height) / factor)
    left, top = (image.width - box_w) / 2, (image.height - box_h) / 2
    tile = image.resize((min(w, width), min(h, height)), Image.Resampling.BILINEAR,
                        box=(left, top, left + box_w, top + box_h))
    frame = Image.new("RGB", (width, height), BACKGROUND)
    frame.paste(tile, ((width - tile.width) // 2, (height - tile.height) // 2))
    return frame


def title_card(title: str, style: RecapStyle) -> Image.Image:
    frame = Image.new("RGB", (style.width, style.height), BACKGROUND)
    draw = ImageDraw.Draw(frame)
    size = max(12, style.height // 14)
    font = ImageFont.load_default(size)
    text = title if draw.textlength(title, font=font) <= style.width * 0.9 else title[:60] + "…"
    draw.text((style.width / 2, style.height / 2), text, fill=(240, 240, 240), font=font,
              anchor="mm")
    return frame


def frames(title: str, shots: Sequence[Shot], style: RecapStyle) -> Iterator[Image.Image]:
    """Every frame of the movie, in order."""
    card = title_card(title, style)
    for _ in range(round(style.title_s * style.fps)):
        yield card
    for shot in shots:
        if isinstance(shot, Still):
            yield from _zoom(shot.image, style)
        else:
            yield from _moment(shot, style)


def _moment(shot: Moment, style: RecapStyle) -> Iterator[Image.Image]:
    end = min(shot.end_s, shot.start_s + style.max_moment_s)
    try:
        for sampled in frames_between(shot.path, shot.start_s, end, fps=style.fps,
                                      long_side=max(style.width, style.height)):
            yield fit(sampled.image, style.width, style.height)
    except VideoUnreadable:  # a clip cut short: the movie goes on without the rest of it
        return


def _zoom(image: Image.Image, style: RecapStyle) -> Iterator[Image.Image]:
    # a source about the frame's size keeps each resize cheap
    source = image.convert("RGB")
    limit = 2 * max(style.width, style.height)
    if max(source.size) > limit:
        source = source.copy()
        source.thumbnail((limit, limit), Image.Resampling.LANCZOS)
    count = max(1, round(style.still_s * style.fps))
    for i in range(count):
        yield fit(source, style.width, style.height, 1.0 + style.zoom * i / max(1, count - 1))


def write(path: str | Path, title: str, shots: Sequence[Shot], style: RecapStyle) -> Recap:
    """Encode the movie to `path` (MP4, H.264, yuv420p, moov first so it plays while loading)."""
    count = 0
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=style.fps)
        stream.width, stream.height, stream.pix_fmt = style.width, style.height, "yuv420p"
        stream.codec_context.gop_size = style.fps * 2
        stream.codec_context.options = {"preset": "veryfast", "crf": str(style.crf)}
        for image in frames(title, shots, style):
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = count, Fraction(1, style.fps)
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode())
    return Recap(duration_s=count / style.fps, frames=count)
