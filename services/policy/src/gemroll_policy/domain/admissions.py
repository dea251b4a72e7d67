"""When an admission does not go through: its training copy could not be made, or it carries
no evidence. Pure rules; the gate's use case applies them before anything commits.

An admitted image is first copied to its training key. What the copy's result means:

* copied: the admission stands;
* source missing: the media is gone, the admission becomes a rejection (media_deleted);
* source unusable (not an image, refused by the store): rejected, source_unusable;
* failed (the store is down, or an error of our own): the candidate is held again, and its
  copy is tried again later. Nothing else in the batch waits for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from uuid import UUID

from gemroll_contracts import RejectionReason

from .model import Candidate, CandidateStatus
from .outcomes import Decided, Outcome, Retracted
from .rules import Admit, Reject


class CopyResult(StrEnum):
    copied = "copied"
    source_missing = "source_missing"
    source_unusable = "source_unusable"
    failed = "failed"


INSTEAD_OF_ADMISSION: dict[CopyResult, RejectionReason | None] = {
    CopyResult.source_missing: RejectionReason.media_deleted,
    CopyResult.source_unusable: RejectionReason.source_unusable,
    CopyResult.failed: None,  # held again
}
"""What becomes of an admission whose copy was not made: a rejection, or held (None)."""


def instead_of_admissions(results: Mapping[UUID, CopyResult]
                          ) -> dict[UUID, RejectionReason | None]:
    """The candidates whose admission does not stand, and what they get instead."""
    return {cid: INSTEAD_OF_ADMISSION[r] for cid, r in results.items()
            if r is not CopyResult.copied}


def without_admissions(outcomes: Sequence[Outcome],
                       instead: Mapping[UUID, RejectionReason | None]) -> list[Outcome]:
    """The outcomes with the admissions of `instead` undone: rejected with the given reason,
    or held again (None). Their later retraction in the same batch goes too: they never were
    admitted."""
    kept: list[Outcome] = []
    for o in outcomes:
        cid = o.candidate.candidate_id if isinstance(o, Decided | Retracted) else None
        if cid not in instead:
            kept.append(o)
        elif isinstance(o, Decided):
            c, reason = o.candidate, instead[cid]
            c.basis, c.evidence = None, ()
            c.retracted_at, c.retraction_reason = None, None
            if reason is None:
                c.status, c.decided_at, c.reason = CandidateStatus.pending, None, None
                continue
            c.status, c.reason = CandidateStatus.rejected, reason
            kept.append(Decided(c, Reject(reason), o.trace_id))
    return kept


def hold_unbacked(outcomes: Sequence[Outcome]) -> tuple[list[Outcome], list[Candidate]]:
    """Last line of defence: an admission without evidence is undone and its candidate held
    again. The rule never produces one; returns the outcomes kept and the candidates held."""
    kept: list[Outcome] = []
    held: list[Candidate] = []
    for o in outcomes:
        if isinstance(o, Decided) and isinstance(o.verdict, Admit) and not o.verdict.evidence:
            c = o.candidate
            c.status, c.decided_at, c.basis, c.evidence = CandidateStatus.pending, None, None, ()
            held.append(c)
        else:
            kept.append(o)
    return kept, held


__all__ = ["INSTEAD_OF_ADMISSION", "CopyResult", "hold_unbacked", "instead_of_admissions",
           "without_admissions"]
