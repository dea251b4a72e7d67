"""The video steps of a batch: stream each clip to a temporary file, sample its key frames
(`ClipSampler`), and after the batch's model pass judge it from its frames (`domain.video`).

Clips are fetched and sampled `concurrency` at a time, each file deleted as soon as its
frames are out, so disk use is bounded by that many clips. A store outage fails the batch
(the runner retries it) only once every clip in flight has finished with its file.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploadedData

from ..domain.duplicates import group_for
from ..domain.features import ModelSignals, PreparedClip, Unreadable
from ..domain.scorer import DuplicateDecision, Thresholds, assess
from ..domain.video import FrameResult, VideoRules, judge
from ..ports import ClipSampler, ObjectMissing, ObjectReader
from .fetch import fetch_to_file
from .results import Item


def is_video(data: MediaUploadedData) -> bool:
    return data.media_kind == "video" or data.content_type.startswith("video/")


async def prepare_clips(items: Sequence[Item], reader: ObjectReader,
                        sampler: ClipSampler | None, *, attempts: int, backoff: Backoff,
                        concurrency: int, tmp_dir: str | None = None
                        ) -> list[PreparedClip | Unreadable | ObjectMissing]:
    """Per item: its sampled clip, `Unreadable`, or `ObjectMissing` (still missing)."""
    gate = asyncio.Semaphore(concurrency)
    with tempfile.TemporaryDirectory(prefix="gemroll-video-", dir=tmp_dir) as folder:
        async def one(index: int, item: Item) -> PreparedClip | Unreadable | ObjectMissing:
            path = Path(folder) / f"clip-{index}"
            async with gate:
                try:
                    got = await fetch_to_file(reader, item.upload.data, path,
                                              attempts=attempts, backoff=backoff)
                    if isinstance(got, ObjectMissing):
                        return got
                    if sampler is None:
                        return Unreadable("unknown_format", "no video sampler configured")
                    return await sampler.sample(path)
                finally:
                    path.unlink(missing_ok=True)

        results = await asyncio.gather(*(one(i, item) for i, item in enumerate(items)),
                                       return_exceptions=True)
    for result in results:  # Unreadable and ObjectMissing are results, anything else fails
        if isinstance(result, BaseException) and not isinstance(result,
                                                                 (Unreadable, ObjectMissing)):
            raise result
    return list(results)


def frame_inputs(items: Sequence[Item]) -> list[object]:
    """The model inputs of every sampled frame of these (readable) clips, in order."""
    return [f.prepared.model_input for item in items for f in item.clip.frames]


def judge_clips(items: Sequence[Item], embeddings: Sequence, signals: Sequence[ModelSignals],
                thresholds: Thresholds, rules: VideoRules) -> None:
    """Judge each clip from its frames' model outputs (in `frame_inputs` order). The poster
    frame stands for the clip (labels, NSFW, published embedding); a clip is its own
    duplicate group, never grouped with photos."""
    at = 0
    for item in items:
        frames = item.clip.frames
        results = [FrameResult(f.time_s, f.prepared.stats,
                               assess(f.prepared.facts, f.prepared.stats, signals[at + i],
                                      thresholds)) for i, f in enumerate(frames)]
        item.judgement = judge(results, item.clip.duration_s, thresholds, rules)
        poster = item.judgement.poster_index
        item.prepared = frames[poster].prepared
        item.embedding = embeddings[at + poster]
        item.signals = signals[at + poster]
        item.assessment = item.judgement.assessment
        item.duplicate = DuplicateDecision(group_for(str(item.media_id)))
        item.clip = PreparedClip(item.clip.width, item.clip.height, item.clip.duration_s,
                                 item.clip.video_codec, [])  # the frames' pixels can go
        at += len(frames)
