"""Outcomes as the events to publish and the audit entries to record (pseudonymous).

A training event names the training copy by pseudonym and opaque ids only: nothing in it can
be looked up on another topic or joined back to an account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from gemroll_common.outbox import OutboxMessage
from gemroll_contracts import (
    MEDIA_ERASED,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    Event,
    MediaErased,
    MediaErasedData,
    TrainingAdmitted,
    TrainingAdmittedData,
    TrainingRejected,
    TrainingRejectedData,
    TrainingRetracted,
    TrainingRetractedData,
    new_trace_id,
)

from ..domain import (
    Admit,
    AuditEntry,
    Candidate,
    Decided,
    Erased,
    Outcome,
    Pseudonymizer,
    Retracted,
    training_key,
    training_prefix,
    user_prefix,
)
from ..ports import Changes, ErasureJob

PRODUCER = "policy"
MAX_ERASED_IDS = 10_000


def trace(trace_id: str | None) -> str:
    return trace_id or new_trace_id()


class Renderer:
    def __init__(self, pseudonyms: Pseudonymizer, bucket: str, policy_version: str) -> None:
        self.pseudonyms = pseudonyms
        self.bucket = bucket
        self.policy_version = policy_version

    def render(self, outcomes: Sequence[Outcome], now: datetime) -> Changes:
        changes = Changes(now=now)
        erased: dict[tuple[str, str], list[Erased]] = {}
        for outcome in outcomes:
            if isinstance(outcome, Decided):
                self._decision(outcome, now, changes)
            elif isinstance(outcome, Retracted):
                self._retraction(outcome, now, changes)
            else:
                erased.setdefault((outcome.user_key, outcome.reason.value), []).append(outcome)
        for (user_key, reason), group in erased.items():
            self._erasure(user_key, reason, group, now, changes)
        return changes

    def training_key(self, user_key: str, candidate_id: UUID) -> str:
        """Where the candidate's training copy lives (pseudonym and opaque id only)."""
        return training_key(self.pseudonyms.subject(user_key),
                            self.pseudonyms.training_id(candidate_id))

    def _opaque_ids(self, c: Candidate) -> dict[str, UUID]:
        """The ids a training record carries: none can be looked up on another topic."""
        return {"candidate_id": self.pseudonyms.training_id(c.candidate_id),
                "media_id": self.pseudonyms.opaque("media", c.media_id)}

    def _opaque_evidence(self, evidence: Sequence[UUID]) -> list[UUID]:
        return [self.pseudonyms.opaque("action", e) for e in evidence]

    def _decision(self, d: Decided, now: datetime, changes: Changes) -> None:
        c, verdict = d.candidate, d.verdict
        subject = self.pseudonyms.subject(c.user_key)
        ids = self._opaque_ids(c)
        evidence = self._opaque_evidence(verdict.evidence)
        common = {"candidate_id": str(c.candidate_id), "media_id": str(c.media_id),
                  "source": c.source, "policy_version": self.policy_version,
                  "evidence": [str(e) for e in verdict.evidence]}
        if isinstance(verdict, Admit):
            event: Event = TrainingAdmitted(producer=PRODUCER, trace_id=trace(d.trace_id),
                                            data=TrainingAdmittedData(
                **ids, evidence=evidence, subject=subject, bucket=self.bucket,
                object_key=self.training_key(c.user_key, c.candidate_id), basis=verdict.basis,
                policy_version=self.policy_version, decided_at=now))
            changes.messages.append(OutboxMessage(TRAINING_MEDIA, subject, event))
            changes.audit.append(AuditEntry("admitted", subject, {
                **common, "basis": verdict.basis.value, "event_id": str(event.event_id),
                "derived_media_id": str(c.derived_media_id) if c.derived_media_id else None}))
        else:
            event = TrainingRejected(producer=PRODUCER, trace_id=trace(d.trace_id),
                                     data=TrainingRejectedData(
                **ids, evidence=evidence, subject=subject, reason=verdict.reason,
                policy_version=self.policy_version, decided_at=now))
            changes.messages.append(OutboxMessage(TRAINING_DECISIONS, subject, event))
            changes.audit.append(AuditEntry("rejected", subject, {
                **common, "reason": verdict.reason.value, "event_id": str(event.event_id)}))

    def _retraction(self, r: Retracted, now: datetime, changes: Changes) -> None:
        c = r.candidate
        subject = self.pseudonyms.subject(c.user_key)
        event = TrainingRetracted(producer=PRODUCER, trace_id=trace(r.trace_id),
                                  data=TrainingRetractedData(
            **self._opaque_ids(c), subject=subject, reason=r.reason,
            policy_version=self.policy_version, retracted_at=now))
        changes.messages.append(OutboxMessage(TRAINING_MEDIA, subject, event))
        # the training copy goes too (queued with the decision, retried until it is gone)
        changes.erasure_jobs.append(ErasureJob((self.training_key(c.user_key, c.candidate_id),),
                                               f"retracted_{r.reason.value}"))
        changes.audit.append(AuditEntry("retracted", subject, {
            "candidate_id": str(c.candidate_id), "media_id": str(c.media_id),
            "reason": r.reason.value, "policy_version": self.policy_version,
            "event_id": str(event.event_id)}))

    def _erasure(self, user_key: str, reason: str, group: list[Erased], now: datetime,
                 changes: Changes) -> None:
        subject = self.pseudonyms.subject(user_key)
        media_ids = list(dict.fromkeys(m for e in group for m in e.media_ids))
        prefixes = tuple(dict.fromkeys(p for e in group for p in e.scope.prefixes))
        # Training copies of every candidate the media had (also one a crashed batch copied
        # but never committed); for a whole account, everything under the pseudonym.
        training = [self.training_key(user_key, c) for e in group for c in e.candidate_ids]
        if user_prefix(user_key) in prefixes:
            training = [training_prefix(subject)]
        prefixes = tuple(dict.fromkeys((*prefixes, *training)))
        if prefixes:
            changes.erasure_jobs.append(ErasureJob(prefixes, reason))
        for media_id in media_ids:
            changes.audit.append(AuditEntry("erased", subject, {
                "media_id": str(media_id), "reason": reason}))
        for start in range(0, len(media_ids), MAX_ERASED_IDS):
            event = MediaErased(producer=PRODUCER, trace_id=trace(group[0].trace_id),
                                data=MediaErasedData(
                user_key=user_key, media_ids=media_ids[start:start + MAX_ERASED_IDS],
                reason=group[0].reason, erased_at=now))
            changes.messages.append(OutboxMessage(MEDIA_ERASED, user_key, event))


__all__ = ["PRODUCER", "Renderer", "trace"]
