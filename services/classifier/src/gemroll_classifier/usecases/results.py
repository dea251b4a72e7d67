"""One media item on its way through a batch, and what is stored and published for it: a
MediaClassified event, a TrainingCandidate and the stored row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import numpy as np
from gemroll_contracts import (
    MAX_FACE_BOXES,
    CandidateSource,
    FaceBox,
    MediaClassified,
    MediaClassifiedData,
    MediaUploaded,
    ModelInfo,
    Moment,
    Quality,
    TrainingCandidate,
    TrainingCandidateData,
    VideoVerdict,
    utcnow,
)

from ..domain.candidates import candidate_id
from ..domain.duplicates import capture_order
from ..domain.features import MediaFacts, ModelSignals, Prepared, PreparedClip, Unreadable
from ..domain.scorer import (
    SCORER_VERSION,
    Assessment,
    DuplicateDecision,
    Thresholds,
    Verdict,
    decide,
    unreadable,
)
from ..domain.video import VideoJudgement
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
    video: bool = False  # a video: judged from its sampled frames (`clip`, `judgement`)
    clip: PreparedClip | None = None
    judgement: VideoJudgement | None = None
    faces_checked: bool = False  # face detection ran on the photo (`prepared.faces`)

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


def model_info(model: ImageModel, head_version: str | None = None) -> ModelInfo:
    """The image model's version and the scorer's: the learned head's, else the rules'."""
    return ModelInfo(name=f"{model.name}+open_nsfw",
                     version=f"{model.version}/{head_version or SCORER_VERSION}")


def video_verdict(item: Item) -> VideoVerdict | None:
    """What the classifier found in a video; for an unreadable one, the ingest's duration."""
    judged, clip, facts = item.judgement, item.clip, item.upload.data.video
    poster = facts.poster_key if facts else None
    if judged is not None and clip is not None:
        start, end = judged.best_moment
        return VideoVerdict(duration_s=round(clip.duration_s, 3),
                            frames_sampled=judged.frames_sampled,
                            poster_time_s=judged.poster_time_s,
                            best_moment=Moment(start_s=start, end_s=end), poster_key=poster)
    if facts is None:
        return None
    return VideoVerdict(duration_s=facts.duration_s, frames_sampled=0, poster_key=poster)


def face_boxes(item: Item) -> list[FaceBox] | None:
    """The photo's counted faces as boxes (no landmarks, no identity); None: not checked."""
    if not item.faces_checked or item.prepared is None or item.video:
        return None
    return [FaceBox(left=f.x0, top=f.y0, right=f.x1, bottom=f.y1, probability=f.probability)
            for f in item.prepared.faces[:MAX_FACE_BOXES]]


def _size(item: Item) -> tuple[int, int]:
    data = item.upload.data
    if item.video:
        return (item.clip.width, item.clip.height) if item.clip else (data.width, data.height)
    facts = item.prepared.facts if item.prepared else None
    return (facts.width, facts.height) if facts else (data.width, data.height)


def classified_event(item: Item, verdict: Verdict, model: ModelInfo, *,
                     publish_embedding: bool) -> MediaClassified:
    data = item.upload.data
    width, height = _size(item)
    quality = verdict.quality
    embedding = item.embedding if publish_embedding else None
    faces = face_boxes(item)
    return MediaClassified(producer=PRODUCER, trace_id=item.upload.trace_id,
                           data=MediaClassifiedData(
        media_id=data.media_id, user_key=data.user_key, bucket=data.bucket,
        object_key=data.object_key,
        width=width, height=height,
        captured_at=data.captured_at, coarse_location=data.coarse_location,
        category=verdict.category,
        quality=Quality(sharpness=round(quality.sharpness, 4),
                        exposure=round(quality.exposure, 4), noise=round(quality.noise, 4),
                        brightness=round(quality.brightness, 4)) if quality else None,
        duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
        is_best_in_group=verdict.is_best_in_group,
        nsfw_score=verdict.nsfw_score,
        face_count=len(item.prepared.faces) if faces is not None else None,
        faces=faces,
        labels=list(item.signals.labels) if item.signals else [],
        embedding=[round(float(v), 5) for v in embedding] if embedding is not None else None,
        gem_score=verdict.gem_score, is_gem=verdict.is_gem, reasons=list(verdict.reasons),
        model=model,
        media_kind="video" if item.video else "photo",
        video=video_verdict(item) if item.video else None,
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
    """The item's stored row, with the events published for it. A video's row keeps no
    hash or embedding: photos are never grouped with it."""
    verdict = item.verdict(thresholds)
    photo = item.prepared if not item.video else None
    data = item.upload.data
    return ResultRow(
        media_id=data.media_id, user_key=data.user_key, captured_at=data.captured_at,
        category=verdict.category, gem_score=verdict.gem_score, is_gem=verdict.is_gem,
        quality_score=verdict.quality_score,
        duplicate_group=UUID(verdict.duplicate_group) if verdict.duplicate_group else None,
        is_best=verdict.is_best_in_group, phash=photo.phash if photo else None,
        embedding=None if item.video else item.embedding, reasons=verdict.reasons,
        classified=classified_event(item, verdict, model, publish_embedding=publish_embedding),
        candidate=candidate_event(item.upload))
