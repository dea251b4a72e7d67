"""The gate's use of the rule: what happens to candidates when events arrive or time passes.

Every function mutates the Workspace and returns Outcomes (Decided, Retracted, Erased);
the handler turns them into events. Guarantees (tested in tests/unit/policy):

* a candidate gets exactly one decision (admitted or rejected); duplicates are ignored;
* a pending candidate is decided as soon as an event makes the rule admit or reject it;
* an admitted candidate is retracted as soon as the rule stops admitting it;
* erased media leaves a tombstone; candidates for it are rejected, its actions ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from gemroll_contracts import ErasureReason, RejectionReason, RetractionReason

from .keys import erasure_prefixes, user_prefix
from .model import (
    Action,
    Candidate,
    CandidateStatus,
    Consent,
    ErasureScope,
    Media,
    Tombstone,
    first_consent,
)
from .outcomes import Decided, Erased, Outcome, Retracted
from .rules import Admit, Hold, Reject, Withdrawn, decide, is_expired, retraction_for
from .workspace import Workspace

# Candidates still open when their media is erased are closed with these reasons.
_CLOSE_ON_ERASURE: dict[ErasureReason, tuple[RejectionReason, RetractionReason]] = {
    ErasureReason.media_deleted: (RejectionReason.media_deleted, RetractionReason.media_deleted),
    ErasureReason.account_erasure: (RejectionReason.media_deleted,
                                    RetractionReason.media_deleted),
    ErasureReason.retention_expired: (RejectionReason.retention_expired,
                                      RetractionReason.retention_expired),
}


class Gate:
    """Applies events to a Workspace at one instant `now`."""

    def __init__(self, ws: Workspace, now: datetime, retention: timedelta) -> None:
        self.ws = ws
        self.now = now
        self.retention = retention

    # -- events -------------------------------------------------------------------------
    def on_candidate(self, candidate: Candidate) -> list[Outcome]:
        ws = self.ws
        if candidate.candidate_id in ws.candidates:
            return []  # already known: decided or held once, never again
        key = candidate.media_key
        tombstone = ws.tombstones.get(key)
        if tombstone is not None:
            if candidate.candidate_id in tombstone.candidate_ids:
                return []
            tombstone.candidate_ids.add(candidate.candidate_id)
            ws.tombstone_changed(tombstone)
            reason = _CLOSE_ON_ERASURE[tombstone.reason][0]
            self._close(candidate, CandidateStatus.rejected, reason=reason)
            return [Decided(candidate, Reject(reason), candidate.trace_id)]
        self._media_seen(candidate.user_key, candidate.media_id, candidate.proposed_at)
        ws.add_candidate(candidate)
        return self._review([candidate], candidate.trace_id)

    def on_upload(self, user_key: str, media_id: UUID, at: datetime) -> list[Outcome]:
        """Every upload starts its retention clock here, also media that is never classified
        (its classification failed or is still to come): retention and erasure reach it."""
        if (user_key, media_id) not in self.ws.tombstones:
            self._media_seen(user_key, media_id, at)
        return []

    def on_action(
        self, user_key: str, media_id: UUID, action: Action, trace_id: str | None = None
    ) -> list[Outcome]:
        key = (user_key, media_id)
        if key in self.ws.tombstones:
            return []  # the media is gone; nothing to record
        media = self._media_seen(user_key, media_id, action.acted_at)
        if media.has_action(action.event_id):
            return []
        self.ws.add_action(media, action)
        outcomes = self._review(self.ws.candidates_of(key), trace_id)
        if media.deleted:
            outcomes += self._erase([media], ErasureReason.media_deleted, trace_id)
        return outcomes

    def on_consent(
        self, user_key: str, consent: Consent, erase_data: bool, trace_id: str | None = None
    ) -> list[Outcome]:
        """A consent change. The latest ledger entry wins, and it carries the start of the
        current allowed period: every admission whose evidence predates it is retracted, so an
        opt-out retracts even when the user opted in again before the gate saw it. An erase
        request is carried out once, even if the user opted in again before it arrived: it
        erases the media first seen until the request."""
        current = self.ws.consents.get(user_key)
        if current is None:
            current = first_consent(consent.camera_roll, consent.training_opt_out,
                                    consent.ledger_seq, consent.changed_at)
            self.ws.set_consent(user_key, current)
        elif consent.ledger_seq > current.ledger_seq:
            current = current.followed_by(consent.camera_roll, consent.training_opt_out,
                                          consent.ledger_seq, consent.changed_at)
            self.ws.set_consent(user_key, current)
        outcomes = self._review(self.ws.candidates_of_user(user_key), trace_id)
        if erase_data and not consent.camera_roll and consent.ledger_seq > current.erased_through:
            self.ws.set_consent(user_key, replace(current, erased_through=consent.ledger_seq))
            outcomes += self._erase_account(user_key, consent.changed_at, trace_id)
        return outcomes

    def sweep(self, trace_id: str | None = None) -> list[Outcome]:
        """Retention: erase media never saved or shared after the retention period, and
        reject candidates held for longer than it."""
        outcomes: list[Outcome] = []
        expired = [m for m in self.ws.media.values() if is_expired(m, self.now, self.retention)]
        for media in expired:
            outcomes += self._review(self.ws.candidates_of(media.key), trace_id)
        if expired:
            outcomes += self._erase(expired, ErasureReason.retention_expired, trace_id)
        stale = [c for c in self.ws.candidates.values()
                 if c.status is CandidateStatus.pending
                 and c.proposed_at < self.now - self.retention]
        outcomes += self._review(stale, trace_id)
        return outcomes

    def recheck(self, traces: Mapping[UUID, str | None]) -> list[Outcome]:
        """Decide again candidates that waited for their training copy, each continuing the
        trace of the event that admitted it (`traces`: candidate id -> trace id)."""
        outcomes: list[Outcome] = []
        for cid in sorted(traces, key=str):
            if cid in self.ws.candidates:
                outcomes += self._review([self.ws.candidates[cid]], traces[cid])
        return outcomes

    # -- internals ----------------------------------------------------------------------
    def _media_seen(self, user_key: str, media_id: UUID, at: datetime) -> Media:
        media = self.ws.media.get((user_key, media_id))
        if media is None:
            media = Media(user_key, media_id, first_seen_at=at)
            self.ws.add_media(media)
        elif at < media.first_seen_at:
            media.first_seen_at = at
            self.ws.media_changed(media.key)
        return media

    def _review(self, candidates: list[Candidate], trace_id: str | None) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for c in candidates:
            if not c.is_open:
                continue
            media = self.ws.media[c.media_key]
            verdict = decide(self.ws.consents.get(c.user_key), media, c.proposed_at,
                             self.now, self.retention)
            if c.status is CandidateStatus.pending:
                if isinstance(verdict, Hold | Withdrawn):
                    continue
                if isinstance(verdict, Admit):
                    self._close(c, CandidateStatus.admitted, basis=verdict,
                                evidence=verdict.evidence)
                else:
                    self._close(c, CandidateStatus.rejected, reason=verdict.reason,
                                evidence=verdict.evidence)
                outcomes.append(Decided(c, verdict, trace_id or c.trace_id))
            else:
                retraction = retraction_for(verdict)
                if retraction is not None:
                    outcomes.append(self._retract(c, retraction, trace_id))
        return outcomes

    def _close(
        self,
        c: Candidate,
        status: CandidateStatus,
        *,
        basis: Admit | None = None,
        reason: RejectionReason | None = None,
        evidence: tuple[UUID, ...] = (),
    ) -> None:
        c.status = status
        c.decided_at = self.now
        c.basis = basis.basis if basis else None
        c.reason = reason
        c.evidence = evidence
        self.ws.candidate_changed(c)

    def _retract(self, c: Candidate, reason: RetractionReason, trace_id: str | None) -> Retracted:
        c.status = CandidateStatus.retracted
        c.retracted_at = self.now
        c.retraction_reason = reason
        self.ws.candidate_changed(c)
        return Retracted(c, reason, trace_id or c.trace_id)

    def _erase(
        self, media: list[Media], reason: ErasureReason, trace_id: str | None,
        extra_prefixes: tuple[str, ...] = (),
    ) -> list[Outcome]:
        if not media:
            return []
        outcomes: list[Outcome] = []
        by_user: dict[str, list[Media]] = {}
        for m in media:
            by_user.setdefault(m.user_key, []).append(m)
        reject_reason, retract_reason = _CLOSE_ON_ERASURE[reason]
        for user_key, items in by_user.items():
            prefixes: list[str] = list(extra_prefixes)
            candidate_ids: list[UUID] = []
            for m in items:
                candidates = self.ws.candidates_of(m.key)
                candidate_ids += [c.candidate_id for c in candidates]
                for c in candidates:  # nothing stays open on erased media
                    if c.status is CandidateStatus.pending:
                        self._close(c, CandidateStatus.rejected, reason=reject_reason)
                        outcomes.append(Decided(c, Reject(reject_reason), trace_id or c.trace_id))
                    elif c.status is CandidateStatus.admitted:
                        outcomes.append(self._retract(c, retract_reason, trace_id))
                prefixes += erasure_prefixes(m, candidates)
                self.ws.erase(m.key, Tombstone(
                    user_key, m.media_id, reason, self.now,
                    candidate_ids={c.candidate_id for c in candidates},
                ))
            outcomes.append(Erased(
                user_key, tuple(m.media_id for m in items), reason,
                ErasureScope(user_key, tuple(dict.fromkeys(prefixes))), trace_id,
                tuple(candidate_ids),
            ))
        return outcomes

    def _erase_account(self, user_key: str, requested_at: datetime,
                       trace_id: str | None) -> list[Outcome]:
        media = [m for m in self.ws.media_of_user(user_key) if m.first_seen_at <= requested_at]
        consent = self.ws.consents.get(user_key)
        # Everything under the user's prefix goes, unless they opted in again meanwhile
        # (then only the media known here, so that new uploads survive).
        still_out = consent is None or not consent.camera_roll
        extra = (user_prefix(user_key),) if still_out else ()
        if not media:
            if not extra:
                return []
            return [Erased(user_key, (), ErasureReason.account_erasure,
                           ErasureScope(user_key, extra), trace_id)]
        return self._erase(media, ErasureReason.account_erasure, trace_id, extra)


__all__ = ["Gate"]
