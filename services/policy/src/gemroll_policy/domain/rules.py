"""The admission rule: one pure function, `decide`, and what a changed verdict means.

A candidate (a media item, or an AI-edited rendition of it) is ADMITTED only when, at the
moment of the decision, all of these hold, checked in this order; the first that fails is
the rejection reason:

1. the user is opted in to camera-roll suggestions (no consent on record = not opted in);
2. the user has not opted out of training;
3. the media has not been deleted;
4. the media is within retention: younger than the retention period, or saved or shared;
5. the media has an `edited_with_ai` action, or a `shared` action with no `unshared` after it
   (an unshare takes back shares, not edits), taken
   while the consent in force now was already in force (`Consent.allowed_since`): a share made
   while opted out, or before an opt-out, is no evidence after an opt-in.
   The evidence is those actions' event ids; the basis is the first of them.

When only (5) fails because there never was a qualifying action, the candidate is HELD
(pending), not admitted, until one arrives; a candidate held for longer than the retention
period is rejected with `no_qualifying_action`. When (5) fails because the qualifying actions
were unshared, it is rejected with `unshared`.

An admitted candidate is re-checked whenever its user's consent or its media changes; once
the rule no longer admits it, it is RETRACTED (`retraction_for`). Retraction is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from gemroll_contracts import ActionKind, AdmissionBasis, RejectionReason, RetractionReason

from .model import QUALIFYING, Action, Consent, Media

POLICY_VERSION = "gate-2025.1"
"""Version of these rules; every decision records it. Bump it when `decide` changes."""

MAX_EVIDENCE = 100


@dataclass(frozen=True)
class Admit:
    basis: AdmissionBasis
    evidence: tuple[UUID, ...]


@dataclass(frozen=True)
class Reject:
    reason: RejectionReason
    evidence: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class Hold:
    """No qualifying action yet: wait for one."""


@dataclass(frozen=True)
class Withdrawn:
    """There were qualifying actions, but all before the current consent began (an opt-out
    came after them): held like no evidence at all, and an admission is retracted."""


Verdict = Admit | Reject | Hold | Withdrawn


def given_under(consent: Consent, action: Action) -> bool:
    """The action was taken while the consent now in force was in force."""
    return consent.allowed_since is not None and action.acted_at >= consent.allowed_since


def is_expired(media: Media, now: datetime, retention: timedelta) -> bool:
    """Older than the retention period and never saved or shared."""
    return media.first_seen_at < now - retention and not media.kept


def decide(
    consent: Consent | None,
    media: Media,
    proposed_at: datetime,
    now: datetime,
    retention: timedelta,
) -> Verdict:
    """The rule (see the module docstring). Pure: the same inputs give the same verdict."""
    if consent is None or not consent.camera_roll:
        return Reject(RejectionReason.not_opted_in)
    if consent.training_opt_out:
        return Reject(RejectionReason.training_opt_out)
    deletions = [a for a in media.actions if a.kind is ActionKind.media_deleted]
    if deletions:
        return Reject(RejectionReason.media_deleted, _ids(deletions))
    if is_expired(media, now, retention):
        return Reject(RejectionReason.retention_expired)

    since_unshare, last_unshare = _after_last_unshare(media.actions)
    # an unshare takes back the shares before it; an AI edit stays evidence
    standing = {id(a) for a in since_unshare}
    qualifying = [a for a in media.actions if a.kind is ActionKind.edited_with_ai
                  or (a.kind is ActionKind.shared and id(a) in standing)]
    valid = [a for a in qualifying if given_under(consent, a)]
    if valid:
        return Admit(AdmissionBasis(valid[0].kind.value), _ids(valid))
    if qualifying:
        return Withdrawn()
    if last_unshare is not None and any(a.kind in QUALIFYING for a in media.actions):
        return Reject(RejectionReason.unshared, (last_unshare.event_id,))
    if proposed_at < now - retention:
        return Reject(RejectionReason.no_qualifying_action)
    return Hold()


_RETRACTION_FOR: dict[RejectionReason, RetractionReason] = {
    RejectionReason.not_opted_in: RetractionReason.camera_roll_opt_out,
    RejectionReason.training_opt_out: RetractionReason.training_opt_out,
    RejectionReason.media_deleted: RetractionReason.media_deleted,
    RejectionReason.unshared: RetractionReason.unshared,
    RejectionReason.retention_expired: RetractionReason.retention_expired,
    # An admitted candidate always had a qualifying action and actions are never removed,
    # so this cannot happen; should it, the item is still taken back.
    RejectionReason.no_qualifying_action: RetractionReason.unshared,
    RejectionReason.source_unusable: RetractionReason.unshared,  # never admitted
}


def retraction_for(verdict: Verdict) -> RetractionReason | None:
    """For an admitted candidate: why it must be retracted now, or None to keep it."""
    if isinstance(verdict, Admit):
        return None
    if isinstance(verdict, Reject):
        return _RETRACTION_FOR[verdict.reason]
    if isinstance(verdict, Withdrawn):
        return RetractionReason.consent_withdrawn
    return RetractionReason.unshared  # Hold: unreachable for an admitted candidate; fail closed


def _after_last_unshare(actions: list[Action]) -> tuple[list[Action], Action | None]:
    for i in range(len(actions) - 1, -1, -1):
        if actions[i].kind is ActionKind.unshared:
            return actions[i + 1:], actions[i]
    return actions, None


def _ids(actions: list[Action]) -> tuple[UUID, ...]:
    return tuple(a.event_id for a in actions[-MAX_EVIDENCE:])
