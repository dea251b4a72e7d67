"""Event factories for tests and benchmarks (no infrastructure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from gemroll_contracts import (
    ActionKind,
    CandidateSource,
    ConsentChanged,
    ConsentChangedData,
    MediaUploaded,
    MediaUploadedData,
    TrainingCandidate,
    TrainingCandidateData,
    UserAction,
    UserActionData,
)

_CANDIDATES = uuid.UUID("6f1d7c0e-4b0a-4d55-9f5e-2f1c3b5a7d90")


def user_key(n: int | str) -> str:
    """A valid user key (32 hex digits) derived from `n`."""
    return uuid.uuid5(_CANDIDATES, f"user:{n}").hex


def candidate_id(source: str, media_id: UUID, derived_media_id: UUID | None = None) -> UUID:
    """Stable per (source, media[, rendition]), as classifier and suggester make them."""
    return uuid.uuid5(_CANDIDATES, f"{source}:{media_id}:{derived_media_id or ''}")


def candidate(user: str, media_id: UUID, *, source: str = "classifier",
              proposed_at: datetime | None = None, derived_media_id: UUID | None = None,
              object_key: str | None = None, bucket: str = "gemroll-media") -> TrainingCandidate:
    if object_key is None:
        object_key = (f"users/{user}/derived/{derived_media_id}.jpg" if derived_media_id
                      else f"users/{user}/media/{media_id}")
    return TrainingCandidate(producer=source, data=TrainingCandidateData(
        candidate_id=candidate_id(source, media_id, derived_media_id), user_key=user,
        media_id=media_id, source=CandidateSource(source), bucket=bucket, object_key=object_key,
        derived_media_id=derived_media_id, proposed_at=proposed_at or datetime.now(UTC)))


def action(user: str, media_id: UUID, kind: ActionKind | str, *,
           acted_at: datetime | None = None, suggestion_id: UUID | None = None,
           derived_media_id: UUID | None = None, producer: str = "suggester") -> UserAction:
    return UserAction(producer=producer, data=UserActionData(
        user_key=user, media_id=media_id, action=ActionKind(kind), suggestion_id=suggestion_id,
        derived_media_id=derived_media_id, acted_at=acted_at or datetime.now(UTC)))


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
"""Default time of a consent change: before any action of a test (evidence is valid only when
given under the consent in force); an erase request defaults to now."""


def consent(user: str, *, camera_roll: bool = True, training_opt_out: bool = False,
            erase_data: bool = False, seq: int = 1, at: datetime | None = None) -> ConsentChanged:
    if at is None:
        at = datetime.now(UTC) if erase_data else LONG_AGO + timedelta(seconds=seq)
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=user, camera_roll=camera_roll, training_opt_out=training_opt_out,
        erase_data=erase_data, ledger_seq=seq, changed_at=at))


def uploaded(user: str, media_id: UUID, *, at: datetime | None = None,
             producer: str = "ingest") -> MediaUploaded:
    """The ingest service's announcement of an accepted upload."""
    return MediaUploaded(producer=producer, occurred_at=at or datetime.now(UTC),
                         data=MediaUploadedData(
        media_id=media_id, user_key=user, bucket="gemroll-media",
        object_key=f"users/{user}/media/{media_id}", content_type="image/jpeg",
        size_bytes=1000, sha256="0" * 64, width=64, height=48))


def assert_no_user_key(values: list[bytes], *user_keys: str) -> None:
    """No serialized training event names a user key anywhere (object key included)."""
    assert values, "no events to check"
    for value in values:
        for user in user_keys:
            assert user not in value.decode(), value
