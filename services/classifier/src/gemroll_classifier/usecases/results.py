"""One media item on its way through a batch, and what is stored and published for it: a
MediaClassified event, a TrainingCandidate and the stored row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import numpy as np
from gemroll_contracts import (
    CandidateSource,
    MediaClassified,
    MediaClassifiedData,
    MediaUploaded,
    ModelInfo,
    Quality,
    TrainingCandidate,
    TrainingCandidateData,
    utcnow,
)

from ..domain.candidates import candidate_id
from ..domain.duplicates import capture_order
from ..domain.features import MediaFacts, ModelSignals, Prepared, Unreadable
from ..domain.scorer import (
    SCORER_VERSION,
    Assessment,
    DuplicateDecision,
    Thresholds,
    Verdict,
    decide,
    unreadable,
)
from ..ports import ImageModel, ResultRow

PRODUCER = "classifier"


@dataclass
class Item:
    """What the batch learns about one media item, step by step."""

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

    @property
    def facts(self) -> MediaFacts:
        """The file's facts, with the upload's camera where the file names none."""
        assert self.prepared is not None
        data = self.upload.data
        return self.prepared.facts.with_upload_camera(data.camera_make, data.camera_model)

    @property
    def capture_order(self) -> tuple[int, datetime]:
        return capture_order(self.upload.data.captured_at, self.upload.occurred_at)

    def verdict(self, thresholds: Thresholds) -> Verdict:
        if self.assessment is None:
            return unreadable(self.failure.detail if self.failure else "decode_error")
        return decide(self.assessment, self.duplicate, self.nsfw, thresholds)


def model_info(model: ImageModel) -> ModelInfo:
    return ModelInfo(name=f"{model.name}+open_nsfw", version=f"{model.version}/{SCORER_VERSION}")


def classified_event(item: Item, verdict: Verdict, model: ModelInfo, *,
                     publish_embedding: bool) -> MediaClassified:
    data = item.upload.data
    facts = item.prepared.facts if item.prepared else None
    quality = verdict.quality
    embedding = item.embedding if publish_embedding else None
    return MediaClassified(producer=PRODUCER, trace_id=item.upload.trace_id,
                           data=MediaClassifiedData(
        media_id=data.media_id, user_key=data.user_key, bucket=data.bucket,
        object_key=data.object_key,
        width=facts.width if facts else data.width,
        height=facts.height if facts else data.height,
        captured_at=data.captured_at, coarse_location=data.coarse_location,
        category=verdict.category,
        quality=Quality(sharpness=round(quality.sharpness, 4),
                        exposure=round(quality.exposure, 4), noise=round(quality.noise, 4),
                        brightness=round(quality.brightness, 4)) if quality else None,
        duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
        is_best_in_group=verdict.is_best_in_group,
        nsfw_score=verdict.nsfw_score,
        face_count=None,
        labels=list(item.signals.labels) if item.signals else [],
        embedding=[round(float(v), 5) for v in embedding] if embedding is not None else None,
        gem_score=verdict.gem_score, is_gem=verdict.is_gem, reasons=list(verdict.reasons),
        model=model,
    ))


def candidate_event(upload: MediaUploaded) -> TrainingCandidate:
    """Every classified media is a candidate: the policy service alone decides."""
    data = upload.data
    return TrainingCandidate(producer=PRODUCER, trace_id=upload.trace_id,
                             data=TrainingCandidateData(
        candidate_id=candidate_id(data.media_id), user_key=data.user_key,
        media_id=data.media_id, source=CandidateSource.classifier, bucket=data.bucket,
        object_key=data.object_key, proposed_at=utcnow()))


def result_row(item: Item, thresholds: Thresholds, model: ModelInfo, *,
               publish_embedding: bool) -> ResultRow:
    """The item's stored row, with the events published for it."""
    verdict = item.verdict(thresholds)
    data = item.upload.data
    return ResultRow(
        media_id=data.media_id, user_key=data.user_key, captured_at=data.captured_at,
        category=verdict.category, gem_score=verdict.gem_score, is_gem=verdict.is_gem,
        quality_score=verdict.quality_score,
        duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
        is_best=verdict.is_best_in_group, phash=item.prepared.phash if item.prepared else None,
        embedding=item.embedding, reasons=verdict.reasons,
        classified=classified_event(item, verdict, model, publish_embedding=publish_embedding),
        candidate=candidate_event(item.upload))
