"""What becomes of an admission that does not go through (domain.admissions), and what the
gate does when applying a batch fails (domain.batches): pure rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from gemroll_contracts import AdmissionBasis, RejectionReason, RetractionReason
from gemroll_policy.domain import (
    Admit,
    AfterFailure,
    Candidate,
    CandidateStatus,
    CopyResult,
    Decided,
    Reject,
    Retracted,
    after_failure,
    hold_unbacked,
    instead_of_admissions,
    without_admissions,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def admitted(evidence: tuple[uuid.UUID, ...] = (uuid.uuid4(),)) -> Decided:
    c = Candidate(uuid.uuid4(), "u" * 32, uuid.uuid4(), "classifier", "gemroll-media",
                  "users/x/media/y", NOW, status=CandidateStatus.admitted, decided_at=NOW,
                  basis=AdmissionBasis.shared, evidence=evidence)
    return Decided(c, Admit(AdmissionBasis.shared, evidence), "trace")


def test_each_copy_result_keeps_rejects_or_holds_the_admission():
    results = {uuid.UUID(int=i): r for i, r in enumerate(CopyResult)}
    assert instead_of_admissions(results) == {
        uuid.UUID(int=1): RejectionReason.media_deleted,  # source_missing
        uuid.UUID(int=2): RejectionReason.source_unusable,
        uuid.UUID(int=3): None,  # failed: held, tried again
    }


def test_an_admission_whose_copy_was_refused_becomes_a_rejection():
    decided = admitted()
    c = decided.candidate
    [outcome] = without_admissions([decided], {c.candidate_id: RejectionReason.source_unusable})
    assert outcome == Decided(c, Reject(RejectionReason.source_unusable), "trace")
    assert (c.status, c.reason, c.basis, c.evidence) == (
        CandidateStatus.rejected, RejectionReason.source_unusable, None, ())


def test_a_held_admission_disappears_with_its_later_retraction():
    decided, other = admitted(), admitted()
    c = decided.candidate
    retracted = Retracted(c, RetractionReason.unshared, None)
    kept = without_admissions([decided, other, retracted], {c.candidate_id: None})
    assert kept == [other]
    assert (c.status, c.decided_at, c.retracted_at) == (CandidateStatus.pending, None, None)


def test_an_admission_without_evidence_is_held():
    unbacked, backed = admitted(evidence=()), admitted()
    kept, held = hold_unbacked([unbacked, backed])
    assert kept == [backed]
    assert held == [unbacked.candidate]
    assert unbacked.candidate.status is CandidateStatus.pending
    assert unbacked.candidate.basis is None


@pytest.mark.parametrize(("transient", "final", "records", "attempt", "expected"), [
    (True, False, 50, 1, AfterFailure.wait),  # a dependency down: the whole batch waits
    (True, False, 1, 9, AfterFailure.wait),  # ... however often it fails
    (False, False, 50, 1, AfterFailure.isolate),  # something in it is bad: each record alone
    (False, True, 2, 1, AfterFailure.isolate),
    (False, False, 1, 1, AfterFailure.retry),  # one record: tried again ...
    (False, False, 1, 5, AfterFailure.dead_letter),  # ... then dead-lettered
    (False, True, 1, 1, AfterFailure.dead_letter),  # a poison record at once
])
def test_after_a_failure(transient, final, records, attempt, expected):
    assert after_failure(transient=transient, final=final, records=records, attempt=attempt,
                         max_attempts=5) is expected
