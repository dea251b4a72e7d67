"""What the gate knows: consent, media with the user's actions, candidates and tombstones.

Plain data, no I/O. A media item is identified by (user key, media id): an event naming the
media under another user key never sees this user's consent or actions (fail closed).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gemroll_contracts import (
    ActionKind,
    AdmissionBasis,
    ErasureReason,
    RejectionReason,
    RetractionReason,
)

MediaKey = tuple[str, UUID]
"""(user key, media id)."""

QUALIFYING: frozenset[ActionKind] = frozenset({ActionKind.edited_with_ai, ActionKind.shared})
"""Actions that make a media item admissible: the user edited it with AI tools or shared it."""
KEEPING: frozenset[ActionKind] = frozenset({ActionKind.saved, ActionKind.shared})
"""Actions that keep a media item beyond the retention period."""


@dataclass(frozen=True)
class Consent:
    camera_roll: bool
    training_opt_out: bool
    ledger_seq: int
    changed_at: datetime
    erased_through: int = 0
    """The ledger entry of the last erase request carried out (a replay is not redone)."""
    allowed_since: datetime | None = None
    """Start of the current uninterrupted period of camera_roll on and training not opted out
    (None while not allowed). Evidence given before it was given under an earlier consent, or
    while opted out, and counts for nothing."""

    @property
    def allows_training(self) -> bool:
        return self.camera_roll and not self.training_opt_out

    def followed_by(self, camera_roll: bool, training_opt_out: bool, ledger_seq: int,
                    changed_at: datetime) -> Consent:
        """The consent after a change. A gap in the ledger (an entry never seen here) may have
        been an opt-out, so the allowed period restarts at the change."""
        allows = camera_roll and not training_opt_out
        unbroken = self.allows_training and ledger_seq == self.ledger_seq + 1
        since = (self.allowed_since if unbroken else changed_at) if allows else None
        return Consent(camera_roll, training_opt_out, ledger_seq, changed_at,
                       self.erased_through, since)


def first_consent(camera_roll: bool, training_opt_out: bool, ledger_seq: int,
                  changed_at: datetime) -> Consent:
    allows = camera_roll and not training_opt_out
    return Consent(camera_roll, training_opt_out, ledger_seq, changed_at,
                   allowed_since=changed_at if allows else None)


@dataclass(frozen=True)
class Action:
    event_id: UUID
    kind: ActionKind
    acted_at: datetime
    suggestion_id: UUID | None = None
    derived_media_id: UUID | None = None


@dataclass
class Media:
    user_key: str
    media_id: UUID
    first_seen_at: datetime
    actions: list[Action] = field(default_factory=list)
    """Ordered by `acted_at`; equal times keep arrival order."""

    @property
    def key(self) -> MediaKey:
        return (self.user_key, self.media_id)

    @property
    def kept(self) -> bool:
        """Saved or shared at some point: retention does not erase it."""
        return any(a.kind in KEEPING for a in self.actions)

    @property
    def deleted(self) -> bool:
        return any(a.kind is ActionKind.media_deleted for a in self.actions)

    def has_action(self, event_id: UUID) -> bool:
        return any(a.event_id == event_id for a in self.actions)

    def add_action(self, action: Action) -> None:
        times = [a.acted_at for a in self.actions]
        self.actions.insert(bisect.bisect_right(times, action.acted_at), action)


class CandidateStatus(StrEnum):
    pending = "pending"
    """Held: no qualifying action yet. Never admitted in this state."""
    admitted = "admitted"
    rejected = "rejected"
    retracted = "retracted"
    """Admitted, then taken back. Final: the same candidate is never admitted again."""


OPEN_STATUSES = frozenset({CandidateStatus.pending, CandidateStatus.admitted})


@dataclass
class Candidate:
    candidate_id: UUID
    user_key: str
    media_id: UUID
    source: str
    bucket: str
    object_key: str
    proposed_at: datetime
    derived_media_id: UUID | None = None
    status: CandidateStatus = CandidateStatus.pending
    decided_at: datetime | None = None
    basis: AdmissionBasis | None = None
    reason: RejectionReason | None = None
    evidence: tuple[UUID, ...] = ()
    retracted_at: datetime | None = None
    retraction_reason: RetractionReason | None = None
    trace_id: str | None = None

    @property
    def media_key(self) -> MediaKey:
        return (self.user_key, self.media_id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass
class Tombstone:
    """All that is left of erased media: ids, why and when. No content, no object keys."""

    user_key: str
    media_id: UUID
    reason: ErasureReason
    erased_at: datetime
    candidate_ids: set[UUID] = field(default_factory=set)
    """Candidates already decided for this media: a replayed one is not decided twice."""


@dataclass(frozen=True)
class ErasureScope:
    """Object-key prefixes to delete from the media bucket, all under `users/<user_key>/`."""

    user_key: str
    prefixes: tuple[str, ...]
