"""Use cases: events in -> the pure gate -> state, audit entries and events out.

`GateHandler.handle` is one unit of work per batch: it loads what the batch touches, applies
every event in order, and saves the new state, the audit entries and the outgoing events
(the outbox) in one database transaction. The Kafka side (adapters/gate_loop.py) then
publishes the outbox exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from gemroll_common.errors import is_transient
from gemroll_common.logging import get_logger
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    MEDIA_ERASED,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    ConsentChanged,
    ConsentChangedData,
    DeadLetter,
    Event,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    RejectionReason,
    TrainingAdmitted,
    TrainingAdmittedData,
    TrainingCandidate,
    TrainingRejected,
    TrainingRejectedData,
    TrainingRetracted,
    TrainingRetractedData,
    UserAction,
    new_trace_id,
)

from . import metrics
from .domain import (
    POLICY_VERSION,
    Action,
    Admit,
    AuditEntry,
    Candidate,
    CandidateStatus,
    Consent,
    Decided,
    Erased,
    Gate,
    Outcome,
    Pseudonymizer,
    Reject,
    Retracted,
    first_consent,
    training_key,
    training_prefix,
)
from .domain.audit import timestamp
from .domain.gate import user_prefix
from .ports import (
    AuditReader,
    Changes,
    ConsentStore,
    ErasureJob,
    GateStore,
    LoadRequest,
    OutboundMessage,
    OutboxRow,
    StorageUnavailable,
    TrainingObjects,
    UnusableSource,
)

log = get_logger(__name__)

GateInput = TrainingCandidate | UserAction | ConsentChanged | MediaUploaded
Clock = Callable[[], datetime]
PRODUCER = "policy"
MAX_ERASED_IDS = 10_000
ORPHAN_AFTER = timedelta(minutes=5)
"""A training copy whose candidate is still not admitted this long after it was written
belongs to a unit of work that rolled back: it is erased."""


@dataclass(frozen=True)
class BatchResult:
    outcomes: list[Outcome]
    outbox: list[OutboxRow]


class GateHandler:
    """`objects` is required: every admitted image is first copied to its training key
    (`training/<subject>/<candidate_id>`), which is all a training event names."""

    def __init__(self, store: GateStore, pseudonyms: Pseudonymizer, *, retention_days: int,
                 clock: Clock, objects: TrainingObjects, copy_concurrency: int = 16,
                 policy_version: str = POLICY_VERSION) -> None:
        self.store = store
        self.pseudonyms = pseudonyms
        self.objects = objects
        self.copy_concurrency = copy_concurrency
        self.retention = timedelta(days=retention_days)
        self.clock = clock
        self.policy_version = policy_version

    async def handle(self, events: Sequence[GateInput],
                     dead_letters: Sequence[DeadLetter] = ()) -> BatchResult:
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            ws = await uow.load(load_request(events))
            gate = Gate(ws, now, self.retention)
            outcomes: list[Outcome] = []
            for event in events:
                outcomes += apply(gate, event)
            copies = Changes()
            outcomes = await self.copy_admitted(refuse_unbacked(outcomes), copies)
            changes = self.render(outcomes, now).merge(copies)
            changes.messages += [message(DEAD_LETTERS.name, d, d.data.original_key or b"")
                                 for d in dead_letters]
            rows = await uow.save(ws, changes)
        count(outcomes)
        return BatchResult(outcomes, rows)

    async def sweep(self, limit: int = 1000) -> list[Outcome]:
        """The retention job: erase expired media and expire stale pending candidates."""
        done: list[Outcome] = []
        while True:
            now = self.clock()
            async with self.store.unit_of_work() as uow:
                due = await uow.retention_due(now - self.retention, limit)
                if not (due.media_keys or due.candidate_ids):
                    break
                ws = await uow.load(due)
                copies = Changes()
                outcomes = await self.copy_admitted(
                    refuse_unbacked(Gate(ws, now, self.retention).sweep()), copies)
                await uow.save(ws, self.render(outcomes, now).merge(copies))
            count(outcomes)
            done += outcomes
            if not outcomes:
                break  # nothing was due after all (a concurrent change): stop here
        if done:
            log.info("retention_sweep", outcomes=len(done))
        return done

    async def retry_copies(self, limit: int = 500) -> list[Outcome]:
        """Held admissions whose training copy failed: decide them again, copy again."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            due = await uow.copy_retries_due(now, limit)
            orphans = await uow.orphaned_copies(now - ORPHAN_AFTER, limit)
            if not (due.candidate_ids or orphans):
                return []
            ws = await uow.load(due)
            copies = Changes()
            if orphans:
                log.warning("orphaned_training_copies", count=len(orphans))
                copies.erasure_jobs.append(ErasureJob(tuple(orphans), "orphaned_training_copy"))
            outcomes = await self.copy_admitted(
                refuse_unbacked(Gate(ws, now, self.retention).recheck(due.candidate_ids)), copies)
            await uow.save(ws, self.render(outcomes, now).merge(copies))
        count(outcomes)
        return outcomes

    # -- training copies ----------------------------------------------------------------
    async def copy_admitted(self, outcomes: list[Outcome], changes: Changes) -> list[Outcome]:
        """Write the metadata-free training copy of every image admitted in this unit of work,
        before the decision commits (concurrently, `copy_concurrency` at a time). Nothing else
        waits for a copy: rejections, retractions and erasures commit whatever the copies do.

        * missing source: the media is gone, the admission becomes a rejection (media_deleted);
        * unusable source (not an image, refused by the store): rejected, source_unusable;
        * transient failure: the candidate stays held and is tried again (`copy_retries`).
        """
        admitted = [o.candidate for o in outcomes
                    if isinstance(o, Decided) and isinstance(o.verdict, Admit)]
        if not admitted:
            return outcomes
        limit = asyncio.Semaphore(self.copy_concurrency)
        keys = {c.candidate_id: self.training_key(c.user_key, c.candidate_id) for c in admitted}
        await self.store.record_copies(list(keys.items()), self.clock())

        async def copy(c: Candidate) -> bool:
            async with limit:
                return await self.objects.copy(c.bucket, c.object_key, keys[c.candidate_id])

        results = await asyncio.gather(*(copy(c) for c in admitted), return_exceptions=True)
        instead: dict[UUID, RejectionReason | None] = {}
        results_by_kind: Counter[str] = Counter()
        for c, result in zip(admitted, results, strict=True):
            if result is True:
                results_by_kind["copied"] += 1
            elif result is False:
                results_by_kind["source_missing"] += 1
                instead[c.candidate_id] = RejectionReason.media_deleted
            elif isinstance(result, UnusableSource):
                results_by_kind["source_unusable"] += 1
                instead[c.candidate_id] = RejectionReason.source_unusable
            else:  # held: tried again
                if not (isinstance(result, StorageUnavailable) or is_transient(result)):
                    log.error("training_copy_error", candidate_id=str(c.candidate_id),
                              error_type=type(result).__name__)
                results_by_kind["failed"] += 1
                instead[c.candidate_id] = None
        for kind, n in results_by_kind.items():
            metrics.TRAINING_COPIES.labels(kind).inc(n)
        if not instead:
            return outcomes
        changes.copy_retries += [cid for cid, r in instead.items() if r is None]
        return without_admissions(outcomes, instead)

    # -- rendering outcomes as events and audit entries --------------------------------
    def render(self, outcomes: Sequence[Outcome], now: datetime) -> Changes:
        changes = Changes(now=now)
        erased: dict[tuple[str, str], list[Erased]] = {}
        for outcome in outcomes:
            if isinstance(outcome, Decided):
                self._render_decision(outcome, now, changes)
            elif isinstance(outcome, Retracted):
                self._render_retraction(outcome, now, changes)
            else:
                erased.setdefault((outcome.user_key, outcome.reason.value), []).append(outcome)
        for (user_key, reason), group in erased.items():
            self._render_erasure(user_key, reason, group, now, changes)
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

    def _render_decision(self, d: Decided, now: datetime, changes: Changes) -> None:
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
                **ids, evidence=evidence, subject=subject, bucket=self.objects.bucket,
                object_key=self.training_key(c.user_key, c.candidate_id), basis=verdict.basis,
                policy_version=self.policy_version, decided_at=now))
            changes.messages.append(message(TRAINING_MEDIA.name, event, subject.encode()))
            changes.audit.append(AuditEntry("admitted", subject, {
                **common, "basis": verdict.basis.value, "event_id": str(event.event_id),
                "derived_media_id": str(c.derived_media_id) if c.derived_media_id else None}))
        else:
            event = TrainingRejected(producer=PRODUCER, trace_id=trace(d.trace_id),
                                     data=TrainingRejectedData(
                **ids, evidence=evidence, subject=subject, reason=verdict.reason,
                policy_version=self.policy_version, decided_at=now))
            changes.messages.append(message(TRAINING_DECISIONS.name, event, subject.encode()))
            changes.audit.append(AuditEntry("rejected", subject, {
                **common, "reason": verdict.reason.value, "event_id": str(event.event_id)}))

    def _render_retraction(self, r: Retracted, now: datetime, changes: Changes) -> None:
        c = r.candidate
        subject = self.pseudonyms.subject(c.user_key)
        event = TrainingRetracted(producer=PRODUCER, trace_id=trace(r.trace_id),
                                  data=TrainingRetractedData(
            **self._opaque_ids(c), subject=subject, reason=r.reason,
            policy_version=self.policy_version, retracted_at=now))
        changes.messages.append(message(TRAINING_MEDIA.name, event, subject.encode()))
        # the training copy goes too (queued with the decision, retried until it is gone)
        changes.erasure_jobs.append(ErasureJob((self.training_key(c.user_key, c.candidate_id),),
                                               f"retracted_{r.reason.value}"))
        changes.audit.append(AuditEntry("retracted", subject, {
            "candidate_id": str(c.candidate_id), "media_id": str(c.media_id),
            "reason": r.reason.value, "policy_version": self.policy_version,
            "event_id": str(event.event_id)}))

    def _render_erasure(self, user_key: str, reason: str, group: list[Erased], now: datetime,
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
            changes.messages.append(message(MEDIA_ERASED.name, event, user_key.encode()))


def refuse_unbacked(outcomes: list[Outcome]) -> list[Outcome]:
    """Last line of defence: an admission without evidence is counted, and the candidate
    stays held instead. The rule never produces one; the alert on the metric says if it did."""
    kept: list[Outcome] = []
    for o in outcomes:
        if isinstance(o, Decided) and isinstance(o.verdict, Admit) and not o.verdict.evidence:
            metrics.ADMISSIONS_WITHOUT_EVIDENCE.inc()
            log.error("admission_without_evidence_refused",
                      candidate_id=str(o.candidate.candidate_id))
            c = o.candidate
            c.status, c.decided_at, c.basis, c.evidence = CandidateStatus.pending, None, None, ()
            continue
        kept.append(o)
    return kept


def without_admissions(outcomes: list[Outcome],
                       instead: dict[UUID, RejectionReason | None]) -> list[Outcome]:
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
            log.warning("training_copy_refused", candidate_id=str(cid), reason=reason.value)
            kept.append(Decided(c, Reject(reason), o.trace_id))
    return kept


def apply(gate: Gate, event: GateInput) -> list[Outcome]:
    if isinstance(event, TrainingCandidate):
        d = event.data
        return gate.on_candidate(Candidate(
            candidate_id=d.candidate_id, user_key=d.user_key, media_id=d.media_id,
            source=d.source.value, bucket=d.bucket, object_key=d.object_key,
            proposed_at=d.proposed_at, derived_media_id=d.derived_media_id,
            trace_id=event.trace_id))
    if isinstance(event, MediaUploaded):
        return gate.on_upload(event.data.user_key, event.data.media_id, event.occurred_at)
    if isinstance(event, UserAction):
        d = event.data
        return gate.on_action(d.user_key, d.media_id, Action(
            event_id=event.event_id, kind=d.action, acted_at=d.acted_at,
            suggestion_id=d.suggestion_id, derived_media_id=d.derived_media_id),
            event.trace_id)
    d = event.data
    return gate.on_consent(d.user_key, Consent(d.camera_roll, d.training_opt_out, d.ledger_seq,
                                               d.changed_at), d.erase_data, event.trace_id)


def load_request(events: Sequence[GateInput]) -> LoadRequest:
    candidate_ids: set[UUID] = set()
    media_keys: set[tuple[str, UUID]] = set()
    users: set[str] = set()
    full_users: set[str] = set()
    for event in events:
        d = event.data
        users.add(d.user_key)
        if isinstance(event, TrainingCandidate):
            candidate_ids.add(event.data.candidate_id)
            media_keys.add((event.data.user_key, event.data.media_id))
        elif isinstance(event, UserAction | MediaUploaded):
            media_keys.add((event.data.user_key, event.data.media_id))
        else:
            full_users.add(d.user_key)
    return LoadRequest(frozenset(candidate_ids), frozenset(media_keys), frozenset(users),
                       frozenset(full_users))


def message(topic: str, event: Event, key: bytes) -> OutboundMessage:
    return OutboundMessage(topic, key, event.to_json(), event.event_type)


def trace(trace_id: str | None) -> str:
    return trace_id or new_trace_id()


def count(outcomes: Sequence[Outcome]) -> None:
    decisions: Counter[tuple[str, str]] = Counter()
    retractions: Counter[str] = Counter()
    erasures: Counter[str] = Counter()
    for o in outcomes:
        if isinstance(o, Decided):
            if isinstance(o.verdict, Admit):
                decisions["admitted", o.verdict.basis.value] += 1
            else:
                decisions["rejected", o.verdict.reason.value] += 1
        elif isinstance(o, Retracted):
            retractions[o.reason.value] += 1
        else:
            erasures[o.reason.value] += len(o.media_ids)
    for (outcome, reason), n in decisions.items():
        metrics.DECISIONS.labels(outcome, reason).inc(n)
    for reason, n in retractions.items():
        metrics.RETRACTIONS.labels(reason).inc(n)
    for reason, n in erasures.items():
        if n:
            metrics.ERASURES.labels(reason).inc(n)


# -- consent ------------------------------------------------------------------------------
class ConsentError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConsentHandler:
    """The consent ledger: read the current consent, append a change (and publish it)."""

    def __init__(self, store: ConsentStore, pseudonyms: Pseudonymizer, clock: Clock) -> None:
        self.store = store
        self.pseudonyms = pseudonyms
        self.clock = clock

    async def current(self, user_key: str) -> Consent | None:
        return await self.store.current(user_key)

    async def change(self, user_key: str, *, camera_roll: bool | None = None,
                     training_opt_out: bool | None = None, erase_data: bool = False) -> Consent:
        if camera_roll is None and training_opt_out is None and not erase_data:
            raise ConsentError("empty_change", "give camera_roll, training_opt_out or both")
        async with self.store.change(user_key) as uow:
            current = uow.current
            new_camera_roll = camera_roll if camera_roll is not None else (
                current.camera_roll if current else False)
            new_opt_out = training_opt_out if training_opt_out is not None else (
                current.training_opt_out if current else False)
            if erase_data and new_camera_roll:
                raise ConsentError("erase_requires_opt_out",
                                   "erase_data needs camera_roll=false: erasing your media "
                                   "comes with opting out of camera-roll suggestions")
            if (current is not None and not erase_data
                    and (current.camera_roll, current.training_opt_out)
                    == (new_camera_roll, new_opt_out)):
                return current  # nothing changes: the ledger records changes only
            now = self.clock()
            seq = (current.ledger_seq if current else 0) + 1
            consent = (current.followed_by(new_camera_roll, new_opt_out, seq, now) if current
                       else first_consent(new_camera_roll, new_opt_out, seq, now))
            event = ConsentChanged(producer=PRODUCER, data=ConsentChangedData(
                user_key=user_key, camera_roll=consent.camera_roll,
                training_opt_out=consent.training_opt_out, erase_data=erase_data,
                ledger_seq=consent.ledger_seq, changed_at=now))
            subject = self.pseudonyms.subject(user_key)
            changes = Changes(
                messages=[message(CONSENT.name, event, user_key.encode())],
                audit=[AuditEntry("consent_changed", subject, {
                    "ledger_seq": consent.ledger_seq, "camera_roll": consent.camera_roll,
                    "training_opt_out": consent.training_opt_out, "erase_data": erase_data,
                    "changed_at": timestamp(now), "event_id": str(event.event_id)})],
            )
            await uow.append(user_key, consent, erase_data, event.event_id, changes)
        log.info("consent_changed", ledger_seq=consent.ledger_seq, camera_roll=consent.camera_roll,
                 training_opt_out=consent.training_opt_out, erase_data=erase_data)
        return consent


__all__ = ["ReportHandler", "TrainingReport", "BatchResult", "CandidateStatus", "ConsentError",
           "ConsentHandler", "GateHandler", "GateInput", "load_request"]


# -- transparency ---------------------------------------------------------------------------
@dataclass
class ReportItem:
    candidate_id: UUID
    media_id: UUID
    derived_media_id: UUID | None
    source: str
    basis: str
    evidence: list[UUID]
    policy_version: str
    admitted_at: datetime
    status: str = "admitted"
    retracted_at: datetime | None = None
    retraction_reason: str | None = None


@dataclass(frozen=True)
class ErasedItem:
    media_id: UUID
    reason: str
    erased_at: datetime


@dataclass(frozen=True)
class TrainingReport:
    items: list[ReportItem]
    erased: list[ErasedItem]


class ReportHandler:
    """The user's training report, read from the tamper-evident audit log."""

    def __init__(self, audit: AuditReader, pseudonyms: Pseudonymizer) -> None:
        self.audit = audit
        self.pseudonyms = pseudonyms

    async def report(self, user_key: str) -> TrainingReport:
        records = await self.audit.records(self.pseudonyms.subject(user_key))
        items: dict[str, ReportItem] = {}
        erased: list[ErasedItem] = []
        for record, body in ((r, body) for r in records for body in r.entries):
            kind = body["kind"]
            if kind == "admitted":
                items[body["candidate_id"]] = ReportItem(
                    candidate_id=UUID(body["candidate_id"]), media_id=UUID(body["media_id"]),
                    derived_media_id=UUID(body["derived_media_id"])
                    if body.get("derived_media_id") else None,
                    source=body["source"], basis=body["basis"],
                    evidence=[UUID(x) for x in body["evidence"]],
                    policy_version=body["policy_version"], admitted_at=record.recorded_at)
            elif kind == "retracted" and body["candidate_id"] in items:
                item = items[body["candidate_id"]]
                item.status, item.retracted_at = "retracted", record.recorded_at
                item.retraction_reason = body["reason"]
            elif kind == "erased":
                erased.append(ErasedItem(UUID(body["media_id"]), body["reason"],
                                         record.recorded_at))
        return TrainingReport(list(items.values()), erased)
