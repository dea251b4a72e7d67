"""Classify a micro-batch: MediaUploaded in, MediaClassified + TrainingCandidate per media out.

Per batch: erased media are skipped; results already stored are republished unchanged
(redelivery); the other objects are fetched concurrently (`fetch`), decoded in worker threads
(videos: streamed to files, key frames sampled, `video`), photos and every sampled frame run
through the image model in one batch, scored (a video judged from its frames), photos grouped
with the user's recent shots in capture-time order, checked for NSFW where that can still
change the outcome (would-be gems only), stored, and published (`results`). Publishing
happens before the runner commits the batch: a redelivery republishes the stored events, so
there is no outbox.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import numpy as np
from gemroll_common.logging import get_logger
from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploaded

from ..domain.duplicates import DuplicateRules, Shot, assign_groups, group_bests
from ..domain.faces import keep_faces
from ..domain.features import ModelSignals, Unreadable
from ..domain.head import LearnedHeads
from ..domain.judge import assess_photo, summarize_faces
from ..domain.labels import family_indices
from ..domain.nsfw import NsfwCheck, nsfw_check
from ..domain.scorer import DEFAULT_THRESHOLDS, Assessment, Thresholds, assess
from ..domain.video import DEFAULT_VIDEO_RULES, VideoRules
from ..ports import (
    ClipSampler,
    EventSink,
    FaceDetector,
    ImageModel,
    NsfwModel,
    ObjectReader,
    Preparer,
    ResultRow,
    ResultStore,
    StoredResult,
)
from .fetch import fetch_objects
from .inference import infer
from .outcomes import Erased, Failure, Outcome, count, settle
from .results import Item, model_info, result_row
from .video import frame_inputs, is_video, judge_clips, prepare_clips

log = get_logger(__name__)


@dataclass(frozen=True)
class Options:
    fetch_attempts: int = 5
    fetch_backoff: Backoff = Backoff(0.5, 30.0)
    prefetch_concurrency: int = 16
    duplicate_window: timedelta = timedelta(hours=72)
    duplicate_window_items: int = 500
    publish_embedding: bool = True
    nsfw_min_skin_fraction: float = 0.10
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    duplicate_rules: DuplicateRules = field(default_factory=DuplicateRules)
    video_concurrency: int = 2  # clips fetched (to temporary files) and sampled at a time
    video_tmp_dir: str | None = None
    video_rules: VideoRules = DEFAULT_VIDEO_RULES


@dataclass(eq=False, kw_only=True)
class ClassifyBatch:
    """The classifier's main use case (one instance per service; batches run one at a time)."""

    reader: ObjectReader
    preparer: Preparer
    model: ImageModel
    nsfw: NsfwModel | None
    store: ResultStore
    sink: EventSink
    model_pool: Executor
    sampler: ClipSampler | None = None  # without one, videos are classified unreadable
    faces: FaceDetector | None = None  # without one, face_count is None (not checked)
    cpu_pool: Executor | None = None  # runs face detection (None: the model pool)
    heads: LearnedHeads | None = None  # the learned scorer for photos; None: the rules
    options: Options = field(default_factory=Options)
    _families: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    async def classify(self, uploads: Sequence[MediaUploaded]) -> dict[UUID, Outcome]:
        """Classify a micro-batch; returns the outcome per event id. Publishes and stores.

        Raises on infrastructure failures (the caller retries the batch): then nothing of
        the batch is committed, and a retry republishes what was already stored.
        """
        started = time.perf_counter()
        outcomes: dict[UUID, Outcome] = {}
        first: dict[UUID, MediaUploaded] = {}
        for upload in uploads:
            first.setdefault(upload.data.media_id, upload)
        await self._skip_erased(uploads, first, outcomes)

        stored = await self.store.stored(list(first))
        await self._publish(stored.values())
        items = [Item(u, video=is_video(u.data)) for mid, u in first.items()
                 if mid not in stored]
        ready = await self._fetch(items, outcomes)
        await self._analyse(ready)
        rows = await self._save(ready, uploads, stored, outcomes)
        await self._publish(rows)  # at most one best claim per group: order does not matter

        settle(outcomes, uploads, first, stored, rows)
        count(rows, len(uploads), len(items) - len(ready), time.perf_counter() - started,
              self.model.device)
        return outcomes

    # -- steps ------------------------------------------------------------------------------

    async def _skip_erased(self, uploads: Sequence[MediaUploaded],
                           first: dict[UUID, MediaUploaded],
                           outcomes: dict[UUID, Outcome]) -> None:
        tombstoned = await self.store.erased(list(first))
        for upload in uploads:
            if upload.data.media_id in tombstoned:
                outcomes[upload.event_id] = Erased()
        for media_id in tombstoned:
            del first[media_id]
        if tombstoned:
            log.info("erased_media_skipped", count=len(tombstoned))

    async def _fetch(self, items: Sequence[Item], outcomes: dict[UUID, Outcome]) -> list[Item]:
        """The items whose object could be read, decoded (or found unreadable)."""
        o = self.options
        photos = [i for i in items if not i.video]
        fetched = await fetch_objects(self.reader, [i.upload.data for i in photos],
                                      attempts=o.fetch_attempts, backoff=o.fetch_backoff,
                                      concurrency=o.prefetch_concurrency)
        videos = [i for i in items if i.video]
        clips = await prepare_clips(videos, self.reader, self.sampler,
                                    attempts=o.fetch_attempts, backoff=o.fetch_backoff,
                                    concurrency=o.video_concurrency, tmp_dir=o.video_tmp_dir)
        ready: list[Item] = []
        blobs: list[bytes] = []
        for item, got in [*zip(photos, fetched, strict=True), *zip(videos, clips, strict=True)]:
            if isinstance(got, Exception) and not isinstance(got, Unreadable):
                outcomes[item.upload.event_id] = Failure(got, o.fetch_attempts)
                continue
            ready.append(item)
            if isinstance(got, bytes):
                blobs.append(got)
            elif isinstance(got, Unreadable):
                item.failure = got
            else:
                item.clip = got
        decoded = [i for i in ready if not i.video]
        for item, result in zip(decoded, await self.preparer.prepare(blobs), strict=True):
            if isinstance(result, Unreadable):
                item.failure = result
            else:
                item.prepared = result
        return ready

    async def _detect_faces(self, ready: Sequence[Item]) -> None:
        """Faces on every readable photo's analysis image, in the CPU pool (not on video
        frames); the ones that count (`keep_faces`) go into `prepared.faces`. A detector
        failure leaves that photo's faces unchecked (`face_count` None), never the batch."""
        if self.faces is None:
            return
        photos = [item for item in ready if item.prepared is not None and not item.video]
        loop, pool = asyncio.get_running_loop(), self.cpu_pool or self.model_pool
        found = await asyncio.gather(
            *(loop.run_in_executor(pool, self.faces.detect, i.prepared.rgb) for i in photos),
            return_exceptions=True)
        for item, faces in zip(photos, found, strict=True):
            if isinstance(faces, Exception):
                log.warning("face_detection_failed", media_id=str(item.media_id),
                            error_type=type(faces).__name__)
                continue
            item.prepared.faces, item.faces_checked = keep_faces(faces, limit=None), True

    async def _analyse(self, ready: Sequence[Item]) -> None:
        """One model pass over the photos and every sampled frame of the clips."""
        photos = [item for item in ready if item.prepared is not None and not item.video]
        clips = [item for item in ready if item.clip is not None]
        (embeddings, signals), _ = await asyncio.gather(  # faces fill the model's idle core
            self._run_model([item.prepared.model_input for item in photos]
                            + frame_inputs(clips)),
            self._detect_faces(photos))
        for item, emb, sig in zip(photos, embeddings, signals, strict=False):
            item.embedding, item.signals = emb, sig
            item.assessment = self._assess(item)
        judge_clips(clips, embeddings[len(photos):], signals[len(photos):],
                    self.options.thresholds, self.options.video_rules)
        await self._group_duplicates(photos)
        await self._run_nsfw(photos + clips)

    def _assess(self, item: Item) -> Assessment:
        p, t = item.prepared, self.options.thresholds
        if self.heads is None:
            return assess(item.facts, p.stats, item.signals, t)
        return assess_photo(item.facts, p.stats, p.detail, item.signals, item.embedding,
                            self.heads, t, summarize_faces(p))

    async def _save(self, ready: Sequence[Item], uploads: Sequence[MediaUploaded],
                    stored: dict[UUID, StoredResult],
                    outcomes: dict[UUID, Outcome]) -> list[ResultRow]:
        """Stores the rows; returns those inserted. Rows another consumer stored first are
        added to `stored` (their stored result is published, never a second one)."""
        o = self.options
        model = model_info(self.model, self.heads.version if self.heads else None)
        rows = [result_row(item, o.thresholds, model, publish_embedding=o.publish_embedding)
                for item in ready]
        bests = group_bests({str(item.media_id): item.duplicate for item in ready})
        inserted = await self.store.save(
            rows, {UUID(group): UUID(best) for group, best in bests.items()})
        lost = [row.media_id for row in rows if row.media_id not in inserted]
        if not lost:
            return rows
        stored_now = await self.store.stored(lost)
        stored.update(stored_now)
        for media_id in await self.store.erased([m for m in lost if m not in stored]):
            for upload in uploads:  # erased while it was being classified
                if upload.data.media_id == media_id:
                    outcomes.setdefault(upload.event_id, Erased())
        await self._publish(stored_now.values())
        return [row for row in rows if row.media_id in inserted]

    async def _run_model(self, inputs: list) -> tuple[list[np.ndarray], list[ModelSignals]]:
        if self._families is None:
            self._families = family_indices(self.model.categories)
        return await infer(self.model, self.model_pool, inputs, self._families)

    async def _group_duplicates(self, items: Sequence[Item]) -> None:
        by_user: dict[str, list[Item]] = defaultdict(list)
        for item in sorted(items, key=lambda i: i.capture_order):
            by_user[item.upload.data.user_key].append(item)
        for user_key, user_items in by_user.items():
            times = [i.upload.data.captured_at or i.upload.occurred_at for i in user_items]
            since = min(times) - self.options.duplicate_window
            recent = await self.store.recent_shots(
                user_key, since, self.options.duplicate_window_items)
            shots = [Shot(media_id=str(i.media_id), category=i.assessment.category,
                          phash=i.prepared.phash, embedding=i.embedding,
                          quality_score=i.assessment.quality_score,
                          captured_at=i.upload.data.captured_at) for i in user_items]
            decisions = assign_groups(shots, recent, self.options.duplicate_rules)
            for item in user_items:
                item.duplicate = decisions[str(item.media_id)]

    async def _run_nsfw(self, items: Sequence[Item]) -> None:
        if self.nsfw is None:
            return
        o = self.options
        todo: list[Item] = []
        for item in items:
            check = nsfw_check(item.assessment, item.duplicate, item.prepared.stats.skin_fraction,
                               o.thresholds, o.nsfw_min_skin_fraction)
            if check is NsfwCheck.screened_safe:
                item.nsfw = 0.0
            elif check is NsfwCheck.run_model:
                todo.append(item)
        if not todo:
            return
        scores = await asyncio.get_running_loop().run_in_executor(
            self.model_pool, self.nsfw.scores, [i.prepared.rgb for i in todo])
        for item, score in zip(todo, scores, strict=True):
            item.nsfw = float(score)

    # -- out --------------------------------------------------------------------------------

    async def _publish(self, results: Iterable[ResultRow | StoredResult]) -> None:
        async def one(result: ResultRow | StoredResult) -> None:
            await self.sink.classified(result.classified)
            if result.candidate is not None:
                await self.sink.candidate(result.candidate)

        await asyncio.gather(*(one(r) for r in results))
