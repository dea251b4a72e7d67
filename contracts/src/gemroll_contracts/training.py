"""The training-data gate: candidates in, decisions out. Only the policy service writes
`gemroll.training.media.v1` and `gemroll.training.decisions.v1`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from .base import Event, ObjectKey, Pseudonym, StrictModel, UserKey, UtcDatetime  # noqa: F401


class CandidateSource(StrEnum):
    classifier = "classifier"
    suggester = "suggester"


class TrainingCandidateData(StrictModel):
    candidate_id: UUID = Field(description="Stable per (source, media); decisions dedupe on it.")
    user_key: UserKey
    media_id: UUID = Field(description="The media whose consent and actions decide the candidate.")
    source: CandidateSource
    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    object_key: ObjectKey
    derived_media_id: UUID | None = Field(default=None, description="For AI-edited renditions.")
    proposed_at: UtcDatetime


class TrainingCandidate(Event):
    """A media item (or AI-edited rendition) that could become training data if policy allows."""

    EVENT_TYPE = "training.candidate"
    event_type: Literal["training.candidate"] = "training.candidate"
    schema_version: Literal[1] = 1
    data: TrainingCandidateData


class AdmissionBasis(StrEnum):
    edited_with_ai = "edited_with_ai"
    shared = "shared"


class RejectionReason(StrEnum):
    not_opted_in = "not_opted_in"
    training_opt_out = "training_opt_out"
    media_deleted = "media_deleted"
    unshared = "unshared"
    retention_expired = "retention_expired"
    no_qualifying_action = "no_qualifying_action"
    source_unusable = "source_unusable"
    """The source can never become a metadata-free copy (not an image, refused by the store)."""


PolicyVersion = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Evidence = list[UUID]


class TrainingAdmittedData(StrictModel):
    candidate_id: UUID
    subject: Pseudonym
    media_id: UUID
    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    object_key: ObjectKey
    basis: AdmissionBasis
    evidence: Evidence = Field(min_length=1, max_length=100, description="UserAction event ids.")
    policy_version: PolicyVersion
    decided_at: UtcDatetime


class TrainingAdmitted(Event):
    """A candidate may be used for training. Always backed by evidence."""

    EVENT_TYPE = "training.admitted"
    event_type: Literal["training.admitted"] = "training.admitted"
    schema_version: Literal[1] = 1
    data: TrainingAdmittedData


class TrainingRejectedData(StrictModel):
    candidate_id: UUID
    subject: Pseudonym
    media_id: UUID
    reason: RejectionReason
    evidence: Evidence = Field(default_factory=list, max_length=100)
    policy_version: PolicyVersion
    decided_at: UtcDatetime


class TrainingRejected(Event):
    """A candidate may not be used for training, and why."""

    EVENT_TYPE = "training.rejected"
    event_type: Literal["training.rejected"] = "training.rejected"
    schema_version: Literal[1] = 1
    data: TrainingRejectedData


class RetractionReason(StrEnum):
    unshared = "unshared"
    media_deleted = "media_deleted"
    training_opt_out = "training_opt_out"
    camera_roll_opt_out = "camera_roll_opt_out"
    retention_expired = "retention_expired"
    consent_withdrawn = "consent_withdrawn"
    """The user opted out after giving the evidence; opting in again does not revive it."""


class TrainingRetractedData(StrictModel):
    candidate_id: UUID
    subject: Pseudonym
    media_id: UUID
    reason: RetractionReason
    policy_version: PolicyVersion
    retracted_at: UtcDatetime


class TrainingRetracted(Event):
    """A previously admitted item must be removed from every training set."""

    EVENT_TYPE = "training.retracted"
    event_type: Literal["training.retracted"] = "training.retracted"
    schema_version: Literal[1] = 1
    data: TrainingRetractedData


__all__ = [
    "AdmissionBasis",
    "CandidateSource",
    "RejectionReason",
    "RetractionReason",
    "TrainingAdmitted",
    "TrainingAdmittedData",
    "TrainingCandidate",
    "TrainingCandidateData",
    "TrainingRejected",
    "TrainingRejectedData",
    "TrainingRetracted",
    "TrainingRetractedData",
]
