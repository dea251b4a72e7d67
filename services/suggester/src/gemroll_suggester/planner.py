"""The planner: turns quiet events into suggestions (and revisions), with their previews.

Each round claims due events (dirty, quiet long enough, not leased by another replica),
reads a snapshot, plans and renders without holding locks, then commits under the user's
lock only if the event did not change meanwhile (else the work is dropped and the event,
still dirty, is planned again after its new quiet period).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_contracts import SUGGESTIONS, SuggestionKind
from PIL import Image

from . import rendering
from .domain import (
    Change,
    Draft,
    EventRecord,
    MediaItem,
    SuggestionRecord,
    SuggestionStatus,
    edit_draft,
    plan_event,
    reconcile,
    refresh_edits,
)
from .domain.model import preview_key
from .handlers import Deps
from .metrics import (
    OPEN_EVENTS,
    PLAN_SECONDS,
    PLANNING_FAILURES,
    RENDER_SECONDS,
    REVISIONS,
    SUGGESTIONS_MADE,
)
from .ports import MissingObject
from .published import suggestion_created, suggestion_withdrawn
from .user_actions import sweep_orphan_renditions

log = get_logger(__name__)


@dataclass(frozen=True)
class Snapshot:
    event: EventRecord
    opted_out: bool
    media: list[MediaItem]
    others: dict[UUID, MediaItem]
    """Photos of existing suggestions that now live in another event."""
    existing: list[SuggestionRecord]


async def _same(change: Change) -> Change:
    return change


class Planner:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._renders = asyncio.Semaphore(deps.settings.render_concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Forever: plan due events (and now and then sweep orphaned renditions); sleep until
        the interval passes or someone wakes us."""
        settings = self.deps.settings
        next_sweep = time.monotonic()
        while True:
            self._wake.clear()
            try:
                while await self.run_once() > 0:
                    pass
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + settings.orphan_sweep_seconds
                    await sweep_orphan_renditions(self.deps, self.deps.clock() - timedelta(
                        seconds=settings.orphan_grace_seconds))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database down: try again next round
                log.warning("planner_round_failed", error_type=type(exc).__name__,
                            error=str(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       self.deps.settings.planner_interval_seconds)

    async def run_once(self) -> int:
        """Plan the events due now; returns how many were claimed."""
        settings = self.deps.settings
        now = self.deps.clock()
        async with self.deps.uow() as repo:
            lease_until = now + timedelta(seconds=settings.planner_lease_seconds)
            claimed = await repo.claim_due_events(now, settings.planner_batch, lease_until)
        for event in claimed:
            try:
                await self.plan(event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others
                PLANNING_FAILURES.inc()
                retry_in = min(300.0, 2.0 * 2 ** min(event.attempts, 8))
                log.warning("planning_failed", event_id=str(event.event_id),
                            error_type=type(exc).__name__, error=str(exc)[:300],
                            retry_in_s=retry_in)
                async with self.deps.uow() as repo:
                    await repo.release_event(event.event_id,
                                             self.deps.clock() + timedelta(seconds=retry_in))
        async with self.deps.uow() as repo:
            OPEN_EVENTS.set(await repo.count_open_events())
        return len(claimed)

    async def _snapshot(self, event: EventRecord) -> Snapshot:
        async with self.deps.uow() as repo:
            consent = await repo.consent(event.user_key)
            media = await repo.media_of_event(event.event_id)
            existing = await repo.suggestions_of_events([event.event_id])
            here = {m.media_id for m in media}
            missing = {i for s in existing for i in s.media_ids if i not in here}
            others = {m.media_id: m for m in await repo.get_media(list(missing))} if missing else {}
        opted_out = consent is not None and not consent.camera_roll
        return Snapshot(event, opted_out, media, others, existing)

    async def plan(self, claimed: EventRecord) -> None:
        started = time.perf_counter()
        snap = await self._snapshot(claimed)
        if snap.opted_out:
            async with self.deps.uow() as repo:
                await repo.finish_event(claimed.event_id, claimed.version)
            return
        rules = self.deps.settings.plan_rules
        media = {m.media_id: m for m in snap.media}
        media_all = {**snap.others, **media}
        edited = frozenset(s.media_ids[0] for s in snap.existing if s.kind is SuggestionKind.edit
                           and s.status is not SuggestionStatus.withdrawn)
        images: dict[UUID, Image.Image] = {}
        broken: set[UUID] = set()
        while True:  # photos that turn out unreadable leave the plan, which is made again
            plan = plan_event(claimed, list(media.values()), rules, edited_media=edited)
            wanted = {i for d in plan.drafts for i in d.media_ids}
            wanted |= {m.media_id for m in plan.edit_candidates}
            wanted |= {i for s in snap.existing if s.stale for i in s.media_ids if i in media_all}
            new_broken = await self._load(media_all, wanted - images.keys() - broken, images)
            if not new_broken:
                break
            broken |= new_broken
            for i in new_broken:
                if i in media:
                    media[i] = replace(media[i], unrenderable=True)
        recipes = await asyncio.gather(*(
            self._timed("analyse", rendering.auto_enhance, images[item.media_id],
                        face_count=item.face_count) for item in plan.edit_candidates))
        drafts: list[Draft] = list(plan.drafts)
        for item, recipe in zip(plan.edit_candidates, recipes, strict=True):
            draft = edit_draft(item, recipe, rules)
            if draft is not None:
                drafts.append(draft)
        now = self.deps.clock()
        changes = reconcile(claimed, snap.existing, drafts, now)
        planned = {c.record.suggestion_id for c in changes}
        changes += [c for c in refresh_edits(snap.existing, media, rules, now)
                    if c.record.suggestion_id not in planned]
        changes = list(await asyncio.gather(*(
            self._render(c, media_all, images) if c.render else _same(c) for c in changes)))
        await self._commit(claimed, changes, broken, started)

    async def _commit(self, claimed: EventRecord, changes: list[Change], broken: set[UUID],
                      started: float) -> None:
        async with self.deps.uow() as repo:
            await repo.lock_user(claimed.user_key)
            current = await repo.get_events([claimed.event_id])
            if not current or current[0].version != claimed.version:
                await repo.release_event(claimed.event_id)
                log.info("plan_superseded", event_id=str(claimed.event_id))
                return
            if broken:
                await repo.mark_unrenderable(list(broken))
            for change in changes:
                await repo.save_suggestion(change.record)
                if change.publish:
                    await repo.add_outbox(SUGGESTIONS, suggestion_created(change.record),
                                          key=change.record.user_key)
                elif change.withdraw is not None:
                    await repo.add_outbox(SUGGESTIONS, suggestion_withdrawn(
                        change.record, change.withdraw, change.record.updated_at),
                        key=change.record.user_key)
            await repo.finish_event(claimed.event_id, claimed.version)
        for change in changes:
            kind = change.record.kind.value
            if change.is_new:
                SUGGESTIONS_MADE.labels(kind).inc()
            elif change.publish:
                REVISIONS.labels(kind).inc()
        dropped = [c.drop_preview for c in changes if c.drop_preview]
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

    async def _load(self, media: dict[UUID, MediaItem], ids: Iterable[UUID],
                    images: dict[UUID, Image.Image]) -> set[UUID]:
        """Fetch and decode originals into `images`; returns the ids that are missing or
        unreadable. Storage outages raise (the planner retries the event later)."""
        max_side = self.deps.settings.preview_max_side

        async def one(item: MediaItem) -> UUID | None:
            try:
                data = await self.deps.storage.get(item.object_key, bucket=item.bucket)
                images[item.media_id] = await asyncio.to_thread(rendering.decode, data, max_side)
            except (MissingObject, rendering.UnreadableImage) as exc:
                log.warning("original_unusable", media_id=str(item.media_id),
                            error_type=type(exc).__name__)
                return item.media_id
            return None

        results = await asyncio.gather(*(one(media[i]) for i in ids if i in media))
        return {r for r in results if r is not None}

    async def _timed(self, kind: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        async with self._renders:
            started = time.perf_counter()
            try:
                return await asyncio.to_thread(fn, *args, **kwargs)
            finally:
                RENDER_SECONDS.labels(kind).observe(time.perf_counter() - started)

    async def _render(self, change: Change, media: dict[UUID, MediaItem],
                      images: dict[UUID, Image.Image]) -> Change:
        record = change.record
        settings = self.deps.settings
        pictures = [images[i] for i in record.media_ids if i in images]
        if not pictures:
            raise RuntimeError(f"no readable photo for suggestion {record.suggestion_id}")
        if record.kind is SuggestionKind.edit:
            assert record.recipe is not None
            image = await self._timed("edit", rendering.edit_preview, pictures[0], record.recipe,
                                      settings.preview_max_side)
        elif record.kind is SuggestionKind.highlight:
            ranked = sorted((i for i in record.media_ids if i in images),
                            key=lambda i: (-media[i].gem_score, str(i)))
            image = await self._timed("highlight", rendering.highlight_cover,
                                      [images[i] for i in ranked], settings.cover_width)
        else:
            if len(pictures) < 2:
                raise RuntimeError(f"collage {record.suggestion_id} has fewer than 2 photos")
            image = await self._timed("collage", rendering.collage, pictures,
                                      settings.collage_width)
        data = await asyncio.to_thread(rendering.encode_jpeg, image, settings.jpeg_quality)
        key = preview_key(record.user_key, record.suggestion_id, record.revision)
        await self.deps.storage.put(key, data, "image/jpeg")
        return replace(change, record=replace(record, preview_object_key=key))
