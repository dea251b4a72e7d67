"""What became of each event of a batch: classified, failed for good (`Failure`, the
consumer runner's report: dead-lettered) or erased."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from gemroll_common.consumer import Failure
from gemroll_common.logging import get_logger
from gemroll_contracts import MediaClassified, MediaUploaded, TrainingCandidate

from .. import metrics
from ..ports import ResultRow, StoredResult

log = get_logger(__name__)


@dataclass(frozen=True)
class Classified:
    event: MediaClassified
    candidate: TrainingCandidate | None
    republished: bool = False


@dataclass(frozen=True)
class Erased:
    """The media was erased: nothing is stored or published for it (final, not a failure)."""


Outcome = Classified | Failure | Erased


def settle(outcomes: dict[UUID, Outcome], uploads: Sequence[MediaUploaded],
           first: Mapping[UUID, MediaUploaded], stored: Mapping[UUID, StoredResult],
           rows: Sequence[ResultRow]) -> None:
    """Give every event without an outcome yet its own: the media's stored result
    (republished), its new row, or else the outcome of the media's first event in the batch."""
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
                Failure(RuntimeError(f"no stored result for media {media_id}")))

def count(rows: Sequence[ResultRow], batch: int, missing: int, seconds: float,
          device: str) -> None:
    """The batch's metrics and log line."""
    metrics.BATCH_SIZE.observe(batch)
    for row in rows:
        outcome = ("unreadable" if row.classified.data.quality is None else
                   "gem" if row.is_gem else "not_gem")
        metrics.IMAGES.labels(device, outcome).inc()
    if missing:
        metrics.IMAGES.labels(device, "missing").inc(missing)
    log.info("batch_classified", size=batch, classified=len(rows), missing=missing,
             gems=sum(r.is_gem for r in rows), seconds=round(seconds, 3), device=device)


__all__ = ["count", "Classified", "Erased", "Failure", "Outcome", "settle"]
