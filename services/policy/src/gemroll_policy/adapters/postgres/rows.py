"""Rows of the gate's tables, to and from the domain's objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg
from gemroll_contracts import AdmissionBasis, RejectionReason, RetractionReason

from ...domain import Candidate, CandidateStatus, Consent, MediaKey

CANDIDATE_COLUMNS = (
    "candidate_id, user_key, media_id, source, bucket, object_key, derived_media_id, "
    "proposed_at, trace_id, status, decided_at, basis, reason, evidence, retracted_at, "
    "retraction_reason"
)

CONSENT_COLUMNS = (
    "camera_roll, training_opt_out, ledger_seq, changed_at, erased_through, allowed_since"
)


def split_keys(keys: Iterable[MediaKey]) -> tuple[list[str], list[UUID]]:
    """Media keys as the two arrays `unnest` joins on."""
    users, ids = [], []
    for user_key, media_id in keys:
        users.append(user_key)
        ids.append(media_id)
    return users, ids


def uuid_array(ids: Iterable[UUID]) -> str:
    return "{" + ",".join(str(i) for i in ids) + "}"


def optional(value: Any) -> Any:
    return None if value is None else getattr(value, "value", value)


def candidate_record(c: Candidate) -> tuple[Any, ...]:
    """A row in `CANDIDATE_COLUMNS` order."""
    return (c.candidate_id, c.user_key, c.media_id, c.source, c.bucket, c.object_key,
            c.derived_media_id, c.proposed_at, c.trace_id, c.status.value, c.decided_at,
            optional(c.basis), optional(c.reason), list(c.evidence), c.retracted_at,
            optional(c.retraction_reason))


def candidate_of(r: asyncpg.Record) -> Candidate:
    return Candidate(
        candidate_id=r["candidate_id"], user_key=r["user_key"], media_id=r["media_id"],
        source=r["source"], bucket=r["bucket"], object_key=r["object_key"],
        proposed_at=r["proposed_at"], derived_media_id=r["derived_media_id"],
        status=CandidateStatus(r["status"]), decided_at=r["decided_at"],
        basis=AdmissionBasis(r["basis"]) if r["basis"] else None,
        reason=RejectionReason(r["reason"]) if r["reason"] else None,
        evidence=tuple(r["evidence"]), retracted_at=r["retracted_at"],
        retraction_reason=RetractionReason(r["retraction_reason"]) if r["retraction_reason"]
        else None,
        trace_id=r["trace_id"],
    )


def consent_of(row: asyncpg.Record | None) -> Consent | None:
    if row is None:
        return None
    return Consent(row["camera_roll"], row["training_opt_out"], row["ledger_seq"],
                   row["changed_at"], row["erased_through"], row["allowed_since"])
