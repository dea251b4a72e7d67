"""Use cases: a micro-batch of MediaUploaded -> MediaClassified + TrainingCandidate per media,
and MediaErased -> forget those media.

Per batch: results already stored are republished unchanged (redelivery); the other objects
are fetched concurrently (missing ones retried with backoff, then reported as failed),
decoded in worker threads, run through the image model in one batch, scored, grouped with the
user's recent shots in capture-time order, checked for NSFW where that can still change the
outcome (would-be gems only), stored, and published.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np
from gemroll_common.logging import get_logger
from gemroll_contracts import (
    CandidateSource,
    ErasureReason,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaUploaded,
    ModelInfo,
    Quality,
    TrainingCandidate,
    TrainingCandidateData,
    utcnow,
)

from . import metrics
from .domain.duplicates import DuplicateRules, Shot, assign_groups
from .domain.features import MediaFacts, ModelSignals, Prepared, Unreadable
from .domain.labels import family_indices, family_scores
from .domain.scorer import (
    DEFAULT_THRESHOLDS,
    SCORER_VERSION,
    Assessment,
    DuplicateDecision,
    Thresholds,
    Verdict,
    assess,
    decide,
    unreadable,
)
from .ports import (
    EventSink,
    ImageModel,
    NsfwModel,
    ObjectMissing,
    ObjectReader,
    Preparer,
    ResultRow,
    ResultStore,
)

log = get_logger(__name__)

PRODUCER = "classifier"
CANDIDATE_NAMESPACE = uuid.UUID("0d7c5f1e-2b4a-4c8e-9f3d-7a6b5c4d3e21")


def candidate_id(media_id: UUID) -> UUID:
    """Stable per (source, media): the policy service dedupes decisions on it."""
    return uuid.uuid5(CANDIDATE_NAMESPACE, f"{media_id}:classifier")


@dataclass(frozen=True)
class Options:
    fetch_attempts: int = 5
    fetch_backoff_s: float = 0.5
    prefetch_concurrency: int = 16
    duplicate_window: timedelta = timedelta(hours=72)
    duplicate_window_items: int = 500
    publish_embedding: bool = True
    nsfw_min_skin_fraction: float = 0.10
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    duplicate_rules: DuplicateRules = field(default_factory=DuplicateRules)


@dataclass(frozen=True)
class Classified:
    event: MediaClassified
    candidate: TrainingCandidate | None
    republished: bool = False


@dataclass(frozen=True)
class Failed:
    error: Exception
    attempts: int = 1


@dataclass(frozen=True)
class Erased:
    """The media was erased: nothing is stored or published for it (final, not a failure)."""


Outcome = Classified | Failed | Erased


@dataclass
class _Item:
    upload: MediaUploaded
    prepared: Prepared | None = None
    failure: Unreadable | None = None
    embedding: np.ndarray | None = None
    signals: ModelSignals | None = None
    assessment: Assessment | None = None
    duplicate: DuplicateDecision = field(default_factory=lambda: DuplicateDecision(None))
    nsfw: float | None = None

    @property
    def media_id(self) -> UUID:
        return self.upload.data.media_id


def _capture_order(item: _Item) -> tuple[int, datetime]:
    at = item.upload.data.captured_at
    return (0, at) if at else (1, item.upload.occurred_at)


class ClassifyMedia:
    """The classifier's main use case (one instance per service; batches run one at a time)."""

    def __init__(self, *, reader: ObjectReader, preparer: Preparer, model: ImageModel,
                 nsfw: NsfwModel | None, store: ResultStore, sink: EventSink,
                 model_pool: Executor, options: Options = Options()) -> None:
        self._reader = reader
        self._preparer = preparer
        self._model = model
        self._nsfw = nsfw
        self._store = store
        self._sink = sink
        self._pool = model_pool
        self._options = options
        self._families: dict[str, np.ndarray] | None = None

    # -- public -----------------------------------------------------------------------------

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

        tombstoned = await self._store.erased(list(first))
        for upload in uploads:
            if upload.data.media_id in tombstoned:
                outcomes[upload.event_id] = Erased()
        for media_id in tombstoned:
            del first[media_id]
        if tombstoned:
            log.info("erased_media_skipped", count=len(tombstoned))

        stored = await self._store.stored(list(first))
        await asyncio.gather(*(self._publish(r.classified, r.candidate) for r in stored.values()))
        items = [_Item(u) for mid, u in first.items() if mid not in stored]

        fetched = await self._fetch_all(items)
        ready = [item for item, blob in zip(items, fetched, strict=True)
                 if not isinstance(blob, Exception)]
        blobs = [blob for blob in fetched if not isinstance(blob, Exception)]
        for item, blob in zip(items, fetched, strict=True):
            if isinstance(blob, Exception):
                outcomes[item.upload.event_id] = Failed(blob, self._options.fetch_attempts)

        prepared = await self._preparer.prepare(blobs)
        for item, result in zip(ready, prepared, strict=True):
            if isinstance(result, Unreadable):
                item.failure = result
            else:
                item.prepared = result
        readable = [item for item in ready if item.prepared is not None]
        await self._run_model(readable)
        for item in readable:
            item.assessment = assess(self._facts(item), item.prepared.stats, item.signals,
                                     self._options.thresholds)
        await self._group_duplicates(readable)
        await self._run_nsfw(readable)

        rows = [self._row(item) for item in ready]
        bests = {UUID(d.group_id): (UUID(d.best_id) if d.best_id else item.media_id)
                 for item in readable if (d := item.duplicate).group_id}
        inserted = await self._store.save(rows, bests)
        if lost := [row.media_id for row in rows if row.media_id not in inserted]:
            # Another consumer stored these first: publish its result, never a second one.
            stored.update(await self._store.stored(lost))
            for media_id in await self._store.erased([m for m in lost if m not in stored]):
                for upload in uploads:  # erased while it was being classified
                    if upload.data.media_id == media_id:
                        outcomes.setdefault(upload.event_id, Erased())
            rows = [row for row in rows if row.media_id in inserted]
            await asyncio.gather(*(self._publish(stored[m].classified, stored[m].candidate)
                                   for m in lost if m in stored))
        # Concurrently: at most one best claim per group in a batch, so order does not matter.
        await asyncio.gather(*(self._publish(row.classified, row.candidate) for row in rows))
        by_media = {row.media_id: row for row in rows}
        for upload in uploads:
            if upload.event_id in outcomes:
                continue
            media_id = upload.data.media_id
            if media_id in stored:
                outcomes[upload.event_id] = Classified(
                    stored[media_id].classified, stored[media_id].candidate, republished=True)
            elif media_id in by_media:
                row = by_media[media_id]
                outcomes[upload.event_id] = Classified(row.classified, row.candidate)
            else:  # a repeated event of a media whose fetch failed, or erased meanwhile
                outcomes[upload.event_id] = outcomes.get(
                    first[media_id].event_id,
                    Failed(RuntimeError(f"no stored result for media {media_id}")))

        self._count(rows, len(uploads), len(items) - len(ready), time.perf_counter() - started)
        return outcomes

    async def erase(self, event: MediaErased) -> int:
        """Forget these media (for an account erasure, every result of the user) and keep
        tombstones of the ids, so a late classification of them stores nothing."""
        d = event.data
        return await self._store.erase(d.user_key, d.media_ids,
                                       account=d.reason is ErasureReason.account_erasure)

    # -- steps ------------------------------------------------------------------------------

    async def _fetch_all(self, items: Sequence[_Item]) -> list[bytes | Exception]:
        gate = asyncio.Semaphore(self._options.prefetch_concurrency)

        async def fetch(item: _Item) -> bytes | Exception:
            data = item.upload.data
            delay = self._options.fetch_backoff_s
            for attempt in range(1, self._options.fetch_attempts + 1):
                try:
                    async with gate:
                        return await self._reader.read(data.bucket, data.object_key)
                except ObjectMissing as exc:
                    if attempt == self._options.fetch_attempts:
                        log.warning("object_missing", media_id=str(data.media_id),
                                    attempts=attempt)
                        return ObjectMissing(
                            f"object {data.bucket}/{data.object_key} still missing after "
                            f"{attempt} attempts: {exc}")
                    await asyncio.sleep(delay)
                    delay *= 2
            raise AssertionError("unreachable")

        return list(await asyncio.gather(*(fetch(item) for item in items)))

    async def _run_model(self, items: Sequence[_Item]) -> None:
        if not items:
            return
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        embeddings, probs = await loop.run_in_executor(
            self._pool, self._model.infer, [item.prepared.model_input for item in items])
        metrics.INFERENCE_SECONDS.observe(time.perf_counter() - started)
        if self._families is None:
            self._families = family_indices(self._model.categories)
        categories = self._model.categories
        for item, emb, p in zip(items, embeddings, probs, strict=True):
            top = np.argsort(p)[::-1][:5]
            item.embedding = emb.astype(np.float32)
            item.signals = ModelSignals(
                labels=tuple(categories[i][:80] for i in top),
                label_probs=tuple(round(float(p[i]), 4) for i in top),
                families=family_scores(p, self._families))

    async def _group_duplicates(self, items: Sequence[_Item]) -> None:
        by_user: dict[str, list[_Item]] = defaultdict(list)
        for item in sorted(items, key=_capture_order):
            by_user[item.upload.data.user_key].append(item)
        for user_key, user_items in by_user.items():
            times = [i.upload.data.captured_at or i.upload.occurred_at for i in user_items]
            since = min(times) - self._options.duplicate_window
            recent = await self._store.recent_shots(
                user_key, since, self._options.duplicate_window_items)
            shots = [Shot(media_id=str(i.media_id), category=i.assessment.category,
                          phash=i.prepared.phash, embedding=i.embedding,
                          quality_score=i.assessment.quality_score,
                          captured_at=i.upload.data.captured_at) for i in user_items]
            decisions = assign_groups(shots, recent, self._options.duplicate_rules)
            for item in user_items:
                item.duplicate = decisions[str(item.media_id)]

    async def _run_nsfw(self, items: Sequence[_Item]) -> None:
        """Only where NSFW can still change the outcome: would-be gems, best of their group,
        with enough skin-tone pixels for nudity to be possible at all. Gems screened out by the
        skin test score 0.0, so downstream they count as checked, not as unknown."""
        if self._nsfw is None:
            return
        t = self._options.thresholds
        floor = self._options.nsfw_min_skin_fraction
        gems = [i for i in items if i.assessment.would_be_gem and i.duplicate.is_best
                and i.assessment.gem_score >= t.gem_score]
        todo = [i for i in gems if i.prepared.stats.skin_fraction >= floor]
        for item in gems:
            if item.prepared.stats.skin_fraction < floor:
                item.nsfw = 0.0
        if not todo:
            return
        loop = asyncio.get_running_loop()
        scores = await loop.run_in_executor(
            self._pool, self._nsfw.scores, [i.prepared.rgb for i in todo])
        for item, score in zip(todo, scores, strict=True):
            item.nsfw = float(score)

    # -- building results -------------------------------------------------------------------

    def _facts(self, item: _Item) -> MediaFacts:
        facts = item.prepared.facts
        data = item.upload.data
        if facts.has_camera or not (data.camera_make or data.camera_model):
            return facts
        return MediaFacts(**{**facts.__dict__, "camera_make": data.camera_make,
                             "camera_model": data.camera_model})

    def _verdict(self, item: _Item) -> Verdict:
        if item.assessment is None:
            detail = item.failure.detail if item.failure else "decode_error"
            return unreadable(detail)
        return decide(item.assessment, item.duplicate, item.nsfw, self._options.thresholds)

    def _row(self, item: _Item) -> ResultRow:
        verdict = self._verdict(item)
        data = item.upload.data
        facts = item.prepared.facts if item.prepared else None
        embedding = item.embedding
        publish_embedding = self._options.publish_embedding and embedding is not None
        classified = MediaClassified(producer=PRODUCER, trace_id=item.upload.trace_id,
                                     data=MediaClassifiedData(
            media_id=data.media_id, user_key=data.user_key, bucket=data.bucket,
            object_key=data.object_key,
            width=facts.width if facts else data.width,
            height=facts.height if facts else data.height,
            captured_at=data.captured_at, coarse_location=data.coarse_location,
            category=verdict.category,
            quality=Quality(sharpness=round(verdict.quality.sharpness, 4),
                            exposure=round(verdict.quality.exposure, 4),
                            noise=round(verdict.quality.noise, 4),
                            brightness=round(verdict.quality.brightness, 4))
            if verdict.quality else None,
            duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
            is_best_in_group=verdict.is_best_in_group,
            nsfw_score=verdict.nsfw_score,
            face_count=None,
            labels=list(item.signals.labels) if item.signals else [],
            embedding=[round(float(v), 5) for v in embedding] if publish_embedding else None,
            gem_score=verdict.gem_score, is_gem=verdict.is_gem, reasons=list(verdict.reasons),
            model=ModelInfo(name=f"{self._model.name}+open_nsfw",
                            version=f"{self._model.version}/{SCORER_VERSION}"),
        ))
        # Every classified media is a candidate: the policy service alone decides.
        candidate = TrainingCandidate(producer=PRODUCER, trace_id=item.upload.trace_id,
                                      data=TrainingCandidateData(
            candidate_id=candidate_id(data.media_id), user_key=data.user_key,
            media_id=data.media_id, source=CandidateSource.classifier, bucket=data.bucket,
            object_key=data.object_key, proposed_at=utcnow()))
        return ResultRow(
            media_id=data.media_id, user_key=data.user_key, captured_at=data.captured_at,
            category=verdict.category, gem_score=verdict.gem_score, is_gem=verdict.is_gem,
            quality_score=verdict.quality_score,
            duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
            is_best=verdict.is_best_in_group, phash=item.prepared.phash if item.prepared else None,
            embedding=embedding, reasons=verdict.reasons, classified=classified,
            candidate=candidate)

    async def _publish(self, classified: MediaClassified,
                       candidate: TrainingCandidate | None) -> None:
        await self._sink.classified(classified)
        if candidate is not None:
            await self._sink.candidate(candidate)

    def _count(self, rows: Sequence[ResultRow], batch: int, missing: int,
               seconds: float) -> None:
        device = self._model.device
        metrics.BATCH_SIZE.observe(batch)
        for row in rows:
            outcome = ("unreadable" if row.classified.data.quality is None else
                       "gem" if row.is_gem else "not_gem")
            metrics.IMAGES.labels(device, outcome).inc()
        if missing:
            metrics.IMAGES.labels(device, "missing").inc(missing)
        log.info("batch_classified", size=batch, classified=len(rows), missing=missing,
                 gems=sum(r.is_gem for r in rows), seconds=round(seconds, 3), device=device)
