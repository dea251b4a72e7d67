"""Video clips for tests and benchmarks: a camera's motions over a still picture, encoded by
the FFmpeg that PyAV bundles (H.264, HEVC, VP9), in MP4, MOV, M4V, Matroska or WebM.

* `Motion`: `pan` (a steady pan), `shake` (hand-held jitter with motion blur), `dark` (a night
  recording with little light), `pocket` (almost black, nearly static: a recording started by
  accident), `static` (a tripod);
* `clip(...)`: the encoded bytes, with the creation time and an ISO 6709 location in the
  container as phones write them (MOV: the QuickTime `com.apple.quicktime.location.ISO6709`
  key; MP4: `©xyz`), an optional AAC track and a rotation (display matrix).

Everything is made at test time from a picture (`photos.scene` when none is given); the same
arguments give the same frames.
"""

from __future__ import annotations

import math
import tempfile
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter

from . import photos


class Motion(StrEnum):
    pan = "pan"
    shake = "shake"
    dark = "dark"
    pocket = "pocket"
    static = "static"


CONTAINERS = {"mp4": "mp4", "mov": "mov", "m4v": "mp4", "mkv": "matroska", "webm": "webm"}
CODECS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9"}


def iso6709(lat: float, lon: float, alt: float | None = None) -> str:
    """`+48.8584+002.2945+035.000/` as phones write it."""
    text = f"{lat:+08.4f}{lon:+09.4f}"
    return text + (f"{alt:+08.3f}" if alt is not None else "") + "/"


def frames(motion: Motion, *, size: tuple[int, int], count: int, seed: int = 0,
           picture: Image.Image | None = None) -> list[Image.Image]:
    """`count` RGB frames of `size` showing `picture` as the motion would."""
    width, height = size
    base = picture or Image.fromarray(photos.scene(seed, (width * 3 // 2, height * 3 // 2)))
    base = base.convert("RGB").resize((width * 3 // 2, height * 3 // 2))
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        t = i / max(1, count - 1)
        if motion is Motion.pan:
            x, y = t * (base.width - width), (base.height - height) / 2
        elif motion is Motion.shake:
            jitter = rng.normal(0, width * 0.03, 2)
            x = (base.width - width) / 2 + jitter[0]
            y = (base.height - height) / 2 + jitter[1]
        else:
            x, y = (base.width - width) / 2, (base.height - height) / 2
        x = min(max(0, x), base.width - width)
        y = min(max(0, y), base.height - height)
        frame = base.crop((int(x), int(y), int(x) + width, int(y) + height))
        if motion is Motion.shake:
            frame = _motion_blur(frame, length=int(6 + abs(rng.normal(0, 6))),
                                 angle=float(rng.uniform(0, math.pi)))
        if motion is Motion.dark:
            frame = _darken(frame, 0.06, seed=seed + i)
        if motion is Motion.pocket:
            frame = _darken(frame.filter(ImageFilter.GaussianBlur(24)), 0.015, seed=seed + i)
        out.append(frame)
    return out


def clip(motion: Motion = Motion.pan, *, container: str = "mp4", codec: str = "h264",
         size: tuple[int, int] = (320, 240), fps: int = 24, seconds: float = 2.0,
         seed: int = 0, picture: Image.Image | None = None, audio: bool = False,
         created_at: datetime | None = None, location: tuple[float, float] | None = None,
         rotation: int = 0, gop: int | None = None,
         options: dict[str, str] | None = None) -> bytes:
    """An encoded clip (see the module's docstring); `options` go to FFmpeg's muxer (e.g.
    `{"movflags": "faststart"}`: the index before the pictures, as phones write it)."""
    count = max(1, round(seconds * fps))
    pictures = frames(motion, size=size, count=count, seed=seed, picture=picture)
    muxer = {"mov": {"movflags": "use_metadata_tags"}, "m4v": {"brand": "M4V "}}.get(
        container, {})
    if options:
        muxer = {**muxer, **options, "movflags": "+".join(
            f for f in (muxer.get("movflags"), options.get("movflags")) if f)}
    with tempfile.TemporaryDirectory() as work:  # faststart rereads the file
        path = Path(work) / f"clip.{container}"
        with av.open(str(path), "w", format=CONTAINERS[container], options=muxer) as out:
            out.metadata.update(_tags(container, created_at, location))
            stream = out.add_stream(CODECS[codec], rate=fps)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.gop_size = gop or fps
            if codec == "hevc":
                stream.codec_context.options = {"x265-params": "log-level=none"}
            if rotation:
                stream.set_display_rotation(rotation)
            sound = None
            if audio:
                sound = out.add_stream("libopus" if container == "webm" else "aac", rate=48_000)
            for index, picture_ in enumerate(pictures):
                frame = av.VideoFrame.from_image(picture_)
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
            if sound is not None:
                _tone(out, sound, seconds)
        return path.read_bytes()


def _tags(container: str, created_at: datetime | None,
          location: tuple[float, float] | None) -> dict[str, str]:
    tags = {}
    if created_at is not None:
        tags["creation_time"] = created_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    if location is not None:
        key = "com.apple.quicktime.location.ISO6709" if container == "mov" else "location"
        tags[key] = iso6709(*location)
    return tags


def _tone(out: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    rate, chunk = 48_000, 960
    for start in range(0, int(seconds * rate), chunk):
        t = (np.arange(chunk) + start) / rate
        wave = (0.2 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        out.mux(sound.encode(frame))
    out.mux(sound.encode())


def _motion_blur(frame: Image.Image, *, length: int, angle: float) -> Image.Image:
    arr = np.asarray(frame, dtype=np.float32)
    acc = np.zeros_like(arr)
    dx, dy = math.cos(angle), math.sin(angle)
    for step in range(length):
        shift = step - length // 2
        acc += np.roll(arr, (round(shift * dy), round(shift * dx)), axis=(0, 1))
    return Image.fromarray(np.clip(acc / length, 0, 255).astype(np.uint8))


def _darken(frame: Image.Image, factor: float, *, seed: int) -> Image.Image:
    arr = np.asarray(frame, dtype=np.float32) * factor
    arr += np.random.default_rng(seed).normal(0, 2.0, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def mpeg4_clip() -> bytes:
    """MPEG-4 Part 2 in MP4: a container the ingest takes with a codec it does not."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "clip.mp4"
        with av.open(str(path), "w", format="mp4") as out:
            stream = out.add_stream("mpeg4", rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 40, 90, 120)))
                frame.pts, frame.time_base = i, Fraction(1, 10)
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
        return path.read_bytes()


def motion_photo(seed: int = 0, *, samsung: bool = False,
                 location: tuple[float, float] | None = (48.8584, 2.2945)) -> bytes:
    """A phone's motion photo: a JPEG with its EXIF, then a short MP4 appended after its end
    (Google's layout; Samsung's puts `MotionPhoto_Data` before the clip)."""
    still = photos.phone_jpeg(photos.scene(seed, (320, 240)))
    movie = clip(Motion.static, seed=seed, seconds=1.5, size=(320, 240), location=location)
    return still + (b"MotionPhoto_Data" if samsung else b"") + movie
