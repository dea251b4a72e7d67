"""The admission rule on its own: `decide` and `retraction_for`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_contracts import ActionKind, AdmissionBasis, RejectionReason, RetractionReason
from gemroll_policy.domain import (
    Action,
    Admit,
    Consent,
    Hold,
    Media,
    Reject,
    decide,
    first_consent,
)
from gemroll_policy.domain.rules import MAX_EVIDENCE, retraction_for

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
RETENTION = timedelta(days=30)
OPTED_IN = first_consent(camera_roll=True, training_opt_out=False, ledger_seq=1,
                         changed_at=NOW - timedelta(days=3650))


def media(*kinds: ActionKind, first_seen: datetime = NOW - timedelta(days=1)) -> Media:
    m = Media("u" * 32, uuid.uuid4(), first_seen_at=first_seen)
    for i, kind in enumerate(kinds):
        m.add_action(Action(uuid.uuid4(), kind, first_seen + timedelta(minutes=i)))
    return m


def verdict(m: Media, consent: Consent | None = OPTED_IN, proposed_at: datetime | None = None):
    return decide(consent, m, proposed_at or NOW - timedelta(hours=1), NOW, RETENTION)


def test_unknown_consent_is_not_opted_in():
    assert verdict(media(ActionKind.shared), consent=None) == Reject(RejectionReason.not_opted_in)


def test_camera_roll_off_is_not_opted_in():
    off = Consent(False, False, 2, NOW)
    assert verdict(media(ActionKind.shared), off) == Reject(RejectionReason.not_opted_in)


def test_training_opt_out_wins_over_evidence():
    out = Consent(True, True, 3, NOW)
    assert verdict(media(ActionKind.edited_with_ai), out) == Reject(
        RejectionReason.training_opt_out)


def test_deleted_media_is_rejected_with_the_deletion_as_evidence():
    m = media(ActionKind.shared, ActionKind.media_deleted)
    result = verdict(m)
    assert result == Reject(RejectionReason.media_deleted, (m.actions[1].event_id,))


@pytest.mark.parametrize("kind", [ActionKind.shared, ActionKind.edited_with_ai])
def test_a_qualifying_action_admits_with_its_id_as_evidence(kind):
    m = media(kind)
    assert verdict(m) == Admit(AdmissionBasis(kind.value), (m.actions[0].event_id,))


@pytest.mark.parametrize("kind", [ActionKind.saved, ActionKind.dismissed])
def test_other_actions_are_no_evidence(kind):
    assert verdict(media(kind)) == Hold()


def test_no_action_holds_then_rejects_after_the_retention_period():
    m = media(ActionKind.saved)  # saved: kept, so not erased, but never evidence
    assert verdict(m) == Hold()
    stale = NOW - RETENTION - timedelta(seconds=1)
    assert verdict(m, proposed_at=stale) == Reject(RejectionReason.no_qualifying_action)


def test_unshare_after_the_last_share_rejects():
    m = media(ActionKind.shared, ActionKind.saved, ActionKind.unshared)
    assert verdict(m) == Reject(RejectionReason.unshared, (m.actions[2].event_id,))


def test_unshare_takes_back_shares_but_not_an_ai_edit():
    m = media(ActionKind.edited_with_ai, ActionKind.shared, ActionKind.unshared)
    assert verdict(m) == Admit(AdmissionBasis.edited_with_ai, (m.actions[0].event_id,))


def test_sharing_again_after_unsharing_admits_on_the_new_share_only():
    m = media(ActionKind.shared, ActionKind.unshared, ActionKind.shared)
    assert verdict(m) == Admit(AdmissionBasis.shared, (m.actions[2].event_id,))


def test_order_is_by_acted_at_not_arrival():
    m = Media("u" * 32, uuid.uuid4(), first_seen_at=NOW - timedelta(days=1))
    share = Action(uuid.uuid4(), ActionKind.shared, NOW - timedelta(hours=1))
    early_unshare = Action(uuid.uuid4(), ActionKind.unshared, NOW - timedelta(hours=2))
    m.add_action(share)
    m.add_action(early_unshare)  # arrives later, happened earlier
    assert verdict(m) == Admit(AdmissionBasis.shared, (share.event_id,))


def test_unshare_without_a_prior_qualifying_action_only_holds():
    assert verdict(media(ActionKind.unshared)) == Hold()


def test_media_never_saved_or_shared_expires_after_the_retention_period():
    old = NOW - RETENTION - timedelta(minutes=1)
    assert verdict(media(ActionKind.edited_with_ai, first_seen=old)) == Reject(
        RejectionReason.retention_expired)
    assert isinstance(verdict(media(ActionKind.shared, first_seen=old)), Admit)
    assert isinstance(verdict(media(ActionKind.saved, ActionKind.edited_with_ai,
                                    first_seen=old)), Admit)


def test_basis_is_the_first_qualifying_action_and_evidence_is_capped():
    kinds = [ActionKind.edited_with_ai] + [ActionKind.shared] * (MAX_EVIDENCE + 5)
    m = media(*kinds)
    result = verdict(m)
    assert isinstance(result, Admit)
    assert result.basis is AdmissionBasis.edited_with_ai
    assert len(result.evidence) == MAX_EVIDENCE
    assert result.evidence[-1] == m.actions[-1].event_id


def test_decide_is_pure():
    m = media(ActionKind.shared)
    before = [a.event_id for a in m.actions]
    assert verdict(m) == verdict(m)
    assert [a.event_id for a in m.actions] == before


@pytest.mark.parametrize(("reason", "retraction"), [
    (RejectionReason.not_opted_in, RetractionReason.camera_roll_opt_out),
    (RejectionReason.training_opt_out, RetractionReason.training_opt_out),
    (RejectionReason.media_deleted, RetractionReason.media_deleted),
    (RejectionReason.unshared, RetractionReason.unshared),
    (RejectionReason.retention_expired, RetractionReason.retention_expired),
])
def test_retraction_reason_for_each_rejection(reason, retraction):
    assert retraction_for(Reject(reason)) is retraction


def test_an_admit_keeps_the_item():
    assert retraction_for(Admit(AdmissionBasis.shared, (uuid.uuid4(),))) is None
