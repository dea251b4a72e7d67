"""The gate's use cases: a batch of events, the training copies, and the retention sweep.

`GateHandler.handle` is one unit of work per batch: it loads what the batch touches, applies
every event in order, and saves the new state, the audit entries and the outgoing events
(the outbox) in one database transaction. The Kafka side (adapters/gate_loop.py) then
publishes the outbox exactly once.

An admission needs its training copy first, and the copy is not made in that transaction:
the candidate waits (held, in the copy queue), and `copy_admissions` copies it outside any
transaction, then decides it again with the state as it is by then. So rejections,
retractions, erasures and consent changes never wait behind the object store, and an
opt-out that lands while a copy is being made wins.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    without_admissions,
)
from ..ports import Changes, ErasureJob, GateStore, LoadRequest, TrainingObjects
from .copies import TrainingCopies, refuse_unbacked
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
        self._copies_queued = asyncio.Event()

    async def copies_waiting(self, timeout_s: float) -> None:
        """Return once a batch has queued copies since the last call, or after timeout_s."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._copies_queued.wait(), timeout_s)
        self._copies_queued.clear()

    async def handle(self, events: Sequence[GateInput],
                     dead_letters: Sequence[DeadLetter] = ()) -> list[Outcome]:
        """Decide a batch. Its admissions are not among the outcomes: they wait for their
        training copy (`copy_admissions`)."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            ws = await uow.load(load_request(events))
            gate = Gate(ws, now, self.retention)
            outcomes, changes = self._settle([o for e in events for o in apply(gate, e)], now)
            changes.messages += [OutboxMessage(DEAD_LETTERS, _key(d), d) for d in dead_letters]
            await uow.save(ws, changes)
        if changes.copies_due:
            self._copies_queued.set()
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
                outcomes, changes = self._settle(Gate(ws, now, self.retention).sweep(), now)
                await uow.save(ws, changes)
            count(outcomes)
            done += outcomes
            if not outcomes:
                break  # nothing was due after all (a concurrent change): stop here
        if done:
            log.info("retention_sweep", outcomes=len(done))
        return done

    async def copy_admissions(self, limit: int = 500) -> list[Outcome]:
        """Admissions waiting for their training copy (new, or failed before and due again):
        claim them, copy them outside any transaction, then decide them again and admit
        those still admitted whose copy was made. A copy whose candidate is no longer
        admitted by then is erased at once; orphans of crashed rounds after ORPHAN_AFTER."""
        async with self.store.unit_of_work() as uow:
            claim = await uow.claim_copies(self.clock(), limit)
            due = claim.request
            orphans = await uow.orphaned_copies(self.clock() - ORPHAN_AFTER, limit)
            ws = await uow.load(due)
            if orphans:
                log.warning("orphaned_training_copies", count=len(orphans))
                await uow.save(ws, Changes(erasure_jobs=[
                    ErasureJob(tuple(orphans), "orphaned_training_copy")]))
        waiting = [c for c in ws.candidates.values()
                   if c.candidate_id in due.candidate_ids and c.is_open]
        if not waiting:
            return []
        copies = await self.copies.make(waiting)
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            ws = await uow.load(due)
            outcomes = Gate(ws, now, self.retention).recheck(claim.traces)
            outcomes, changes = self.copies.settle(refuse_unbacked(outcomes), copies)
            changes = self.renderer.render(outcomes, now).merge(changes)
            await uow.save(ws, changes)
        count(outcomes)
        return outcomes

    def _settle(self, outcomes: list[Outcome], now: datetime) -> tuple[list[Outcome], Changes]:
        """The outcomes without their admissions, which wait for their copy, and what to
        write."""
        outcomes = refuse_unbacked(outcomes)
        waiting = {o.candidate.candidate_id: o.trace_id for o in outcomes
                   if isinstance(o, Decided) and isinstance(o.verdict, Admit)}
        if waiting:
            outcomes = without_admissions(outcomes, dict.fromkeys(waiting))
        changes = self.renderer.render(outcomes, now)
        changes.copies_due |= waiting
        return outcomes, changes


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
