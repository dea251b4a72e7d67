"""Video files to prepared key frames, with `gemroll_common.video` (PyAV) in the decode pool.

At most `frames` key frames spread over the clip are decoded (seeking; FFmpeg scales them to
the analysis size), so cost and memory do not grow with the clip's length, resolution or
frame rate. Each frame is then prepared exactly as a photo is (`decode.finish`).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path

from gemroll_common.video import VideoUnreadable, frame_times, probe, sample_frames

from ..domain.features import ClipFrame, PreparedClip, Unreadable, video_frame_facts
from ..settings import ClassifierSettings
from .decode import finish


def sample_clip(path: Path, *, frames: int, long_side: int) -> PreparedClip:
    """Probe + sample + prepare; `Unreadable` for anything FFmpeg cannot read."""
    if path.stat().st_size == 0:
        raise Unreadable("empty", "the object is empty")
    try:
        facts = probe(path)
        out = []
        for frame in sample_frames(path, frame_times(facts.duration_s, frames),
                                   long_side=long_side):
            rgb = frame.image
            if rgb.width < 8 or rgb.height < 8:
                raise Unreadable("too_small", f"{rgb.size} is too small to judge")
            out.append(ClipFrame(time_s=frame.time_s,
                                 prepared=finish(video_frame_facts(rgb.width, rgb.height), rgb)))
    except Unreadable:
        raise
    except VideoUnreadable as exc:
        raise Unreadable("decode_error", str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - a corrupt stream fails in many ways
        raise Unreadable("decode_error", f"{type(exc).__name__}: {exc}") from exc
    if not out:
        raise Unreadable("decode_error", "no key frame could be decoded")
    out.sort(key=lambda f: f.time_s)
    return PreparedClip(width=facts.width, height=facts.height, duration_s=facts.duration_s,
                        video_codec=facts.video_codec, frames=out)


class PyAvSampler:
    def __init__(self, pool: Executor, *, frames: int, long_side: int) -> None:
        self._pool = pool
        self._frames = frames
        self._long = long_side

    @classmethod
    def configured(cls, pool: Executor, settings: ClassifierSettings) -> PyAvSampler:
        """At most `video_frames` key frames, at the photos' analysis size."""
        return cls(pool, frames=settings.video_frames, long_side=settings.analysis_long_side)

    def _run(self, path: Path) -> PreparedClip | Unreadable:
        try:
            return sample_clip(path, frames=self._frames, long_side=self._long)
        except Unreadable as exc:
            return exc

    async def sample(self, path: Path) -> PreparedClip | Unreadable:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, path)
