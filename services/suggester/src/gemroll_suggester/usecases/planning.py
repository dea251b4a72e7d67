"""The planner: turns quiet events into suggestions (and revisions), with their previews.

Each round claims due events (dirty, quiet long enough, not leased by another replica),
reads a snapshot, plans and renders without holding locks, then commits under the user's
lock only if the event did not change meanwhile (else the work is dropped and the event,
still dirty, is planned again after its new quiet period) and this planner still holds the
lease. A lease is short and renewed while the round runs, so the events of a planner that
died are taken over by another one within `planner_lease_seconds`. What to suggest is
`domain.planning` and `domain.revisions`; the image work is `usecases.previews`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from gemroll_common.logging import get_logger
from gemroll_common.retry import Backoff
from gemroll_contracts import SuggestionKind
from PIL import Image

from ..domain import (
    Change,
    Draft,
    EventPlan,
    EventRecord,
    MediaItem,
    SuggestionRecord,
    SuggestionStatus,
    edit_draft,
    plan_event,
    reconcile,
    refresh_edits,
)
from ..domain.model import revision_objects
from ..metrics import OPEN_EVENTS, PLAN_SECONDS, PLANNING_FAILURES, REVISIONS, SUGGESTIONS_MADE
from .deps import Deps, apply_change
from .memories import plan_memories
from .previews import Previews
from .renditions import sweep_orphan_renditions

log = get_logger(__name__)

REPLAN_BACKOFF = Backoff(2.0, 300.0)
"""When an event whose planning failed is tried again (by its attempts so far)."""


@dataclass(frozen=True)
class Snapshot:
    event: EventRecord
    opted_out: bool
    media: list[MediaItem]
    others: dict[UUID, MediaItem]
    """Photos of existing suggestions that now live in another event."""
    existing: list[SuggestionRecord]


@dataclass
class Readable:
    """The plan made from the photos that could be read, and what was read."""

    plan: EventPlan
    media: dict[UUID, MediaItem]
    images: dict[UUID, Image.Image]
    broken: set[UUID]


async def _same(change: Change) -> Change:
    return change


class Planner:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.owner = uuid4()
        """This planner's name on the leases it holds."""
        self._previews = Previews(deps.storage, deps.settings)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Forever: plan due events (and now and then sweep orphaned renditions); sleep until
        the interval passes or someone wakes us."""
        settings = self.deps.settings
        next_sweep = next_memories = time.monotonic()
        while True:
            self._wake.clear()
            try:
                while await self.run_once() > 0:
                    pass
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + settings.orphan_sweep_seconds
                    await sweep_orphan_renditions(self.deps, self.deps.clock() - timedelta(
                        seconds=settings.orphan_grace_seconds))
                if settings.memories_interval_seconds and time.monotonic() >= next_memories:
                    next_memories = time.monotonic() + settings.memories_interval_seconds
                    await plan_memories(self.deps, self._previews)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database down: try again next round
                log.warning("planner_round_failed", error_type=type(exc).__name__,
                            error=str(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), settings.planner_interval_seconds)

    async def run_once(self) -> int:
        """Plan the events due now; returns how many were claimed."""
        settings = self.deps.settings
        now = self.deps.clock()
        async with self.deps.uow() as tx:
            claimed = await tx.events.claim_due(now, settings.planner_batch,
                                                self._lease_end(), self.owner)
        left = {e.event_id for e in claimed}
        renewing = asyncio.create_task(self._renew(left))
        try:
            for event in claimed:
                try:
                    await self.plan(event)
                except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others
                    await self._failed(event, exc)
                left.discard(event.event_id)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        async with self.deps.uow() as tx:
            OPEN_EVENTS.set(await tx.events.count_open())
        return len(claimed)

    def _lease_end(self) -> datetime:
        return self.deps.clock() + timedelta(seconds=self.deps.settings.planner_lease_seconds)

    async def _renew(self, events: set[UUID]) -> None:
        """Every third of the lease, extend the leases of the events not planned yet."""
        while True:
            await asyncio.sleep(self.deps.settings.planner_lease_seconds / 3)
            if not events:
                continue
            try:
                async with self.deps.uow() as tx:
                    held = await tx.events.renew(sorted(events), self.owner, self._lease_end())
            except Exception as exc:  # noqa: BLE001 - the commit checks the lease anyway
                log.warning("planner_lease_renewal_failed", error_type=type(exc).__name__)
                continue
            if lost := events - held:
                log.info("planner_leases_lost", events=len(lost))

    async def _failed(self, event: EventRecord, exc: Exception) -> None:
        PLANNING_FAILURES.inc()
        retry_in = REPLAN_BACKOFF.delay(event.attempts + 1)
        log.warning("planning_failed", event_id=str(event.event_id),
                    error_type=type(exc).__name__, error=str(exc)[:300], retry_in_s=retry_in)
        async with self.deps.uow() as tx:
            if await tx.events.holds(event.event_id, self.owner):
                await tx.events.release(event.event_id,
                                        self.deps.clock() + timedelta(seconds=retry_in))

    async def _snapshot(self, event: EventRecord) -> Snapshot:
        async with self.deps.uow() as tx:
            consent = await tx.consent.get(event.user_key)
            media = await tx.media.of_event(event.event_id)
            existing = await tx.suggestions.of_events([event.event_id])
            here = {m.media_id for m in media}
            missing = {i for s in existing for i in s.media_ids if i not in here}
            others = {m.media_id: m for m in await tx.media.get(list(missing))} if missing else {}
        opted_out = consent is not None and not consent.camera_roll
        return Snapshot(event, opted_out, media, others, existing)

    async def plan(self, claimed: EventRecord) -> None:
        started = time.perf_counter()
        snap = await self._snapshot(claimed)
        if snap.opted_out:
            async with self.deps.uow() as tx:
                if await tx.events.holds(claimed.event_id, self.owner):
                    await tx.events.finish(claimed.event_id, claimed.version)
            return
        rules = self.deps.settings.plan_rules
        read = await self._plan_readable(claimed, snap)
        recipes = await self._previews.analyse(read.plan.edit_candidates, read.images)
        drafts: list[Draft] = list(read.plan.drafts)
        for item, recipe in zip(read.plan.edit_candidates, recipes, strict=True):
            draft = edit_draft(item, recipe, rules)
            if draft is not None:
                drafts.append(draft)
        now = self.deps.clock()
        changes = reconcile(claimed, snap.existing, drafts, now)
        planned = {c.record.suggestion_id for c in changes}
        changes += [c for c in refresh_edits(snap.existing, read.media, rules, now)
                    if c.record.suggestion_id not in planned]
        media_all = {**snap.others, **read.media}
        changes = list(await asyncio.gather(*(
            self._previews.render(c, media_all, read.images) if c.render else _same(c)
            for c in changes)))
        await self._commit(claimed, changes, read.broken, started)

    async def _plan_readable(self, claimed: EventRecord, snap: Snapshot) -> Readable:
        """Plan, load what the plan needs; photos that turn out unreadable leave the plan,
        which is made again."""
        rules = self.deps.settings.plan_rules
        media = {m.media_id: m for m in snap.media}
        media_all = {**snap.others, **media}
        edited = frozenset(s.media_ids[0] for s in snap.existing if s.kind is SuggestionKind.edit
                           and s.status is not SuggestionStatus.withdrawn)
        images: dict[UUID, Image.Image] = {}
        broken: set[UUID] = set()
        while True:
            plan = plan_event(claimed, list(media.values()), rules, edited_media=edited)
            wanted = {i for d in plan.drafts for i in d.media_ids}
            wanted |= {m.media_id for m in plan.edit_candidates}
            wanted |= {i for s in snap.existing if s.stale for i in s.media_ids if i in media_all}
            new_broken = await self._previews.load(media_all, wanted - images.keys() - broken,
                                                   images)
            if not new_broken:
                return Readable(plan, media, images, broken)
            broken |= new_broken
            for i in new_broken:
                if i in media:
                    media[i] = replace(media[i], unrenderable=True)

    async def _commit(self, claimed: EventRecord, changes: list[Change], broken: set[UUID],
                      started: float) -> None:
        async with self.deps.uow() as tx:
            await tx.lock_user(claimed.user_key)
            if not await tx.events.holds(claimed.event_id, self.owner):
                log.info("plan_lease_lost", event_id=str(claimed.event_id))
                return  # another planner took the event over: its plan counts
            current = await tx.events.get([claimed.event_id])
            if not current or current[0].version != claimed.version:
                await tx.events.release(claimed.event_id)
                log.info("plan_superseded", event_id=str(claimed.event_id))
                return
            if broken:
                await tx.media.mark_unrenderable(list(broken))
            for change in changes:
                await apply_change(tx, change)
            await tx.events.finish(claimed.event_id, claimed.version)
        for change in changes:
            kind = change.record.kind.value
            if change.is_new:
                SUGGESTIONS_MADE.labels(kind).inc()
            elif change.publish:
                REVISIONS.labels(kind).inc()
        dropped = [k for c in changes if c.drop_preview for k in revision_objects(c.drop_preview)]
        if dropped:
            try:
                await self.deps.storage.delete(dropped)
            except Exception as exc:  # noqa: BLE001 - an orphaned old preview is harmless
                log.warning("old_previews_not_deleted", count=len(dropped), error=str(exc)[:200])
        PLAN_SECONDS.observe(time.perf_counter() - started)
        if changes:
            log.info("event_planned", event_id=str(claimed.event_id),
                     published=sum(c.publish for c in changes), changes=len(changes),
                     seconds=round(time.perf_counter() - started, 3))
