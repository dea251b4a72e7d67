"""The gate's use cases: a batch of events, the retention sweep and held admissions retried.

`GateHandler.handle` is one unit of work per batch: it loads what the batch touches, applies
every event in order, and saves the new state, the audit entries and the outgoing events
(the outbox) in one database transaction. The Kafka side (adapters/gate_loop.py) then
publishes the outbox exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_common.outbox import OutboxMessage
from gemroll_contracts import (
    DEAD_LETTERS,
    ConsentChanged,
    DeadLetter,
    MediaUploaded,
    TrainingCandidate,
    UserAction,
)

from .. import metrics
from ..domain import (
    POLICY_VERSION,
    Action,
    Admit,
    Candidate,
    Consent,
    Decided,
    Gate,
    Outcome,
    Pseudonymizer,
    Retracted,
)
from ..ports import Changes, ErasureJob, GateStore, LoadRequest, TrainingObjects
from .copies import TrainingCopies
from .rendering import Renderer

log = get_logger(__name__)

GateInput = TrainingCandidate | UserAction | ConsentChanged | MediaUploaded
Clock = Callable[[], datetime]
ORPHAN_AFTER = timedelta(minutes=5)
"""A training copy whose candidate is still not admitted this long after it was written
belongs to a unit of work that rolled back: it is erased."""


class GateHandler:
    """`objects` is required: every admitted image is first copied to its training key
    (`training/<subject>/<candidate_id>`), which is all a training event names."""

    def __init__(self, store: GateStore, pseudonyms: Pseudonymizer, *, retention_days: int,
                 clock: Clock, objects: TrainingObjects, copy_concurrency: int = 16,
                 policy_version: str = POLICY_VERSION) -> None:
        self.store = store
        self.pseudonyms = pseudonyms
        self.objects = objects
        self.retention = timedelta(days=retention_days)
        self.clock = clock
        self.renderer = Renderer(pseudonyms, objects.bucket, policy_version)
        self.copies = TrainingCopies(store, objects, self.renderer.training_key, clock,
                                     copy_concurrency)

    async def handle(self, events: Sequence[GateInput],
                     dead_letters: Sequence[DeadLetter] = ()) -> list[Outcome]:
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            ws = await uow.load(load_request(events))
            gate = Gate(ws, now, self.retention)
            outcomes = [o for event in events for o in apply(gate, event)]
            outcomes, changes = await self._settle(outcomes, now)
            changes.messages += [OutboxMessage(DEAD_LETTERS, _key(d), d) for d in dead_letters]
            await uow.save(ws, changes)
        count(outcomes)
        return outcomes

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
                outcomes, changes = await self._settle(
                    Gate(ws, now, self.retention).sweep(), now)
                await uow.save(ws, changes)
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
            outcomes, changes = await self._settle(
                Gate(ws, now, self.retention).recheck(due.candidate_ids), now, copies)
            await uow.save(ws, changes)
        count(outcomes)
        return outcomes

    async def _settle(self, outcomes: list[Outcome], now: datetime,
                      copies: Changes | None = None) -> tuple[list[Outcome], Changes]:
        """The outcomes once the admissions have their training copies, and what to write."""
        copies = copies or Changes()
        outcomes = await self.copies.admit(outcomes, copies)
        return outcomes, self.renderer.render(outcomes, now).merge(copies)


def _key(letter: DeadLetter) -> str:
    """A dead letter goes out under the key of the record it reports."""
    return (letter.data.original_key or b"").decode("utf-8", "replace")


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


__all__ = ["GateHandler", "GateInput", "apply", "count", "load_request"]
