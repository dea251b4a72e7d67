"""Use cases driven by consumed events: a photo was classified, consent changed, photos were
deleted or erased. Each runs in one transaction under the user's lock, so redelivery and
concurrent planning see a consistent state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_contracts import (
    SUGGESTIONS,
    Category,
    ConsentChanged,
    MediaClassified,
    MediaErased,
    SuggestionKind,
    UserAction,
    WithdrawalReason,
    utcnow,
)
from gemroll_contracts.users import ActionKind

from .domain import (
    Consent,
    EventRecord,
    MediaItem,
    Moment,
    SuggestionRecord,
    SuggestionStatus,
    group_into_events,
    place,
)
from .domain.model import event_id_for, suggestion_prefix
from .domain.planning import MIN_MEDIA, withdrawn
from .metrics import CLASSIFIED
from .ports import Clock, ObjectStorage, Repository, UnitOfWork
from .published import suggestion_created, suggestion_withdrawn
from .settings import SuggesterSettings

log = get_logger(__name__)


@dataclass
class Deps:
    uow: UnitOfWork
    storage: ObjectStorage
    settings: SuggesterSettings
    clock: Clock = utcnow
    wake_planner: Callable[[], None] = field(default=lambda: None)


class Outcome(StrEnum):
    stored = "stored"
    updated = "updated"
    unchanged = "unchanged"
    duplicate = "duplicate"
    stale = "stale"
    opted_out = "opted_out"
    removed = "removed"
    not_a_photo = "not_a_photo"
    ignored = "ignored"


def quality_score(event: MediaClassified) -> float | None:
    q = event.data.quality
    if q is None:
        return None
    return round(0.45 * q.sharpness + 0.35 * q.exposure + 0.2 * (1 - q.noise), 4)


def media_item(event: MediaClassified) -> MediaItem:
    d = event.data
    return MediaItem(
        media_id=d.media_id, user_key=d.user_key, bucket=d.bucket, object_key=d.object_key,
        width=d.width, height=d.height, taken_at=d.captured_at or event.occurred_at,
        coarse_location=d.coarse_location, category=d.category.value,
        quality_score=quality_score(event), duplicate_group=d.duplicate_group,
        is_best_in_group=d.is_best_in_group, nsfw_score=d.nsfw_score, face_count=d.face_count,
        embedding=tuple(d.embedding) if d.embedding is not None else None,
        gem_score=d.gem_score, is_gem=d.is_gem, classified_event_id=event.event_id,
        classified_at=event.occurred_at,
    )


def _moment(item: MediaItem) -> Moment:
    return Moment(item.media_id, item.taken_at, item.coarse_location, item.event_id)


# --- a photo was classified -----------------------------------------------------------------

async def media_classified(deps: Deps, event: MediaClassified) -> Outcome:
    d = event.data
    now = deps.clock()
    async with deps.uow() as repo:
        await repo.lock_user(d.user_key)
        outcome = await _classified(deps, repo, event, now)
    CLASSIFIED.labels(outcome.value).inc()
    if outcome in (Outcome.stored, Outcome.updated):
        deps.wake_planner()
    return outcome


async def _classified(deps: Deps, repo: Repository, event: MediaClassified,
                      now: datetime) -> Outcome:
    d = event.data
    intake = await repo.intake(d.user_key, d.media_id)
    if intake.consent is not None and not intake.consent.camera_roll:
        return Outcome.opted_out
    if intake.removed:
        return Outcome.removed
    old = intake.existing
    if old is not None and old.user_key != d.user_key:
        log.warning("media_owner_mismatch", media_id=str(d.media_id))
        return Outcome.ignored
    if old is not None and old.classified_event_id == event.event_id:
        return Outcome.duplicate
    if old is not None and old.classified_at > event.occurred_at:
        return Outcome.stale
    if old is None and d.category is not Category.photo:
        return Outcome.not_a_photo
    item = media_item(event)
    quiet_until = now + timedelta(seconds=deps.settings.quiet_seconds)

    if old is not None:
        same_place = (old.taken_at, old.coarse_location) == (item.taken_at, item.coarse_location)
        if same_place and old.event_id is not None:
            item = replace(item, event_id=old.event_id)
            await repo.save_media(item)
            if item.plan_fields() == old.plan_fields():
                return Outcome.unchanged
            events = await repo.get_events([old.event_id])
            if events:
                await repo.save_event(events[0].touched(quiet_until))
            return Outcome.updated
        await _detach(deps, repo, old, now)  # moved in time or place: placed again below

    dropped: list[str] = []
    placed = await _place(deps, repo, item, now, quiet_until, dropped)
    await repo.save_placement(placed, replace(item, event_id=placed.event_id))
    if dropped:
        await deps.storage.delete(dropped)
    return Outcome.updated if old is not None else Outcome.stored


async def _place(deps: Deps, repo: Repository, item: MediaItem, now: datetime,
                 quiet_until: datetime, dropped: list[str]) -> EventRecord:
    """The event the photo joins (not saved yet): new, or the earliest of those it links
    to, into which the others are merged when the photo bridges them."""
    rules = deps.settings.grouping
    near = await repo.neighbourhood(item.user_key, item.taken_at - rules.gap,
                                    item.taken_at + rules.gap)
    neighbours = [m for m in near.moments if m.media_id != item.media_id]
    linked_ids = place(_moment(item), neighbours, rules)
    events = sorted((near.events[i] for i in linked_ids if i in near.events),
                    key=lambda e: (e.start_at, str(e.event_id)))
    if not events:
        event = EventRecord(event_id_for(item.media_id), item.user_key, item.taken_at,
                            item.taken_at, version=1, dirty=False)
        return event.touched(quiet_until) if item.is_gem else event
    survivor, absorbed = events[0], events[1:]
    survivor = survivor.extended(item.taken_at)
    if absorbed:
        survivor = await _merge(repo, survivor, absorbed, now, dropped)
    if item.is_gem or absorbed:
        survivor = survivor.touched(quiet_until)
    return survivor


async def _merge(repo: Repository, survivor: EventRecord, absorbed: Sequence[EventRecord],
                 now: datetime, dropped: list[str]) -> EventRecord:
    """A late photo bridged events: one event remains. The absorbed events' open highlights
    and collages are withdrawn (the survivor's plan covers their photos now)."""
    ids = [e.event_id for e in absorbed]
    await repo.move_media(None, ids, survivor.event_id)
    for s in await repo.suggestions_of_events(ids):
        moved = replace(s, event_id=survivor.event_id)
        if s.kind is not SuggestionKind.edit and s.status is SuggestionStatus.proposed:
            moved = withdrawn(moved, now)
            await _announce_withdrawal(repo, moved, WithdrawalReason.superseded, now)
            if s.preview_object_key:
                dropped.append(s.preview_object_key)
        await repo.save_suggestion(moved)
    await repo.delete_events(ids)
    for e in absorbed:
        survivor = survivor.extended(e.start_at).extended(e.end_at)
    return survivor


async def _detach(deps: Deps, repo: Repository, item: MediaItem, now: datetime) -> None:
    """Take a photo out of its event (already removed from, or about to be re-saved in, media)."""
    if item.event_id is None:
        return
    events = await repo.get_events([item.event_id])
    if events:
        await _regroup(deps, repo, events[0], now, leaving={item.media_id})


async def _regroup(deps: Deps, repo: Repository, event: EventRecord, now: datetime,
                   leaving: set[UUID]) -> None:
    """After photos left an event it may have split in two (a bridge is gone) or emptied.

    The part holding the earliest photo keeps the event id; other parts become new events.
    All parts are planned again right away (no quiet period: something was taken away).
    """
    media = [m for m in await repo.media_of_event(event.event_id) if m.media_id not in leaving]
    if not media:
        await repo.delete_events([event.event_id])
        return
    groups = group_into_events([_moment(m) for m in media], deps.settings.grouping)
    first = groups[0]
    await repo.save_event(replace(event, start_at=first[0].taken_at,
                                  end_at=first[-1].taken_at).touched(now))
    if len(groups) == 1:
        return
    suggestions = await repo.suggestions_of_events([event.event_id])
    for group in groups[1:]:
        ids = [m.media_id for m in group]
        split = EventRecord(event_id_for(ids[0]), event.user_key, group[0].taken_at,
                            group[-1].taken_at).touched(now)
        await repo.save_event(split)
        await repo.move_media(ids, [event.event_id], split.event_id)
        for s in suggestions:
            if s.kind is SuggestionKind.edit and s.media_ids[0] in ids:
                await repo.save_suggestion(replace(s, event_id=split.event_id))


# --- photos deleted or erased ---------------------------------------------------------------

async def user_action(deps: Deps, event: UserAction) -> Outcome:
    """Only `media_deleted` matters here; other actions (ours included) are ignored."""
    if event.data.action is not ActionKind.media_deleted:
        return Outcome.ignored
    await media_removed(deps, event.data.user_key, [event.data.media_id])
    return Outcome.removed


async def media_erased(deps: Deps, event: MediaErased) -> Outcome:
    await media_removed(deps, event.data.user_key, event.data.media_ids)
    return Outcome.removed


async def _announce_withdrawal(repo: Repository, record: SuggestionRecord,
                               reason: WithdrawalReason, now: datetime) -> None:
    await repo.add_outbox(SUGGESTIONS, suggestion_withdrawn(record, reason, now),
                          key=record.user_key)


async def media_removed(deps: Deps, user_key: str, media_ids: Sequence[UUID]) -> int:
    """Drop the photos, every suggestion and rendition made of them, and their pixels in S3.

    The public topic learns it in the same transaction (outbox): every suggestion that
    showed a removed photo is published again at once, as a revision without the photos, or
    as `suggestion.withdrawn` when too few remain (an edit, a collage below 2) or when the
    user had dismissed it. Edits of a removed photo are then deleted, the other withdrawn
    ones keep their row (so that a later revision of the same id is higher); previews are
    deleted and the planner renders the revised ones at once. Renditions are found by their
    object records (also those whose action never committed). The ids are remembered so
    that a late classification of the same photo is ignored. Objects are deleted before the
    commit: if S3 fails, the whole removal is retried.
    """
    now = deps.clock()
    removed = set(media_ids)
    async with deps.uow() as repo:
        await repo.lock_user(user_key)
        await repo.add_removed(user_key, list(removed))
        items = [m for m in await repo.get_media(list(removed)) if m.user_key == user_key]
        await repo.delete_media([m.media_id for m in items])
        events = {m.event_id for m in items if m.event_id is not None}
        prefixes: list[str] = []
        for s in await repo.suggestions_with_media(user_key, list(removed)):
            remaining = tuple(m for m in s.media_ids if m not in removed)
            prefixes.append(suggestion_prefix(user_key, s.suggestion_id))
            if s.event_id is not None:
                events.add(s.event_id)
            if s.status is SuggestionStatus.withdrawn:  # already taken back publicly
                if s.kind is SuggestionKind.edit or not remaining:
                    await repo.delete_suggestion(s.suggestion_id)
                else:
                    await repo.save_suggestion(replace(s, media_ids=remaining, stale=False,
                                                       preview_object_key=None, updated_at=now))
                continue
            if (s.kind is SuggestionKind.edit or len(remaining) < MIN_MEDIA[s.kind]
                    or s.status is SuggestionStatus.dismissed):
                status = (SuggestionStatus.dismissed if s.status is SuggestionStatus.dismissed
                          else SuggestionStatus.withdrawn)
                gone = withdrawn(replace(s, media_ids=remaining or s.media_ids), now, status)
                await _announce_withdrawal(repo, gone, WithdrawalReason.media_removed, now)
                if s.kind is SuggestionKind.edit or not remaining:
                    await repo.delete_suggestion(s.suggestion_id)
                else:
                    await repo.save_suggestion(gone)
                continue
            revised = replace(s, revision=s.revision + 1, media_ids=remaining, stale=True,
                              preview_object_key=None, updated_at=now)
            await repo.save_suggestion(revised)
            await repo.add_outbox(SUGGESTIONS, suggestion_created(revised), key=user_key)
        derived = [d for d in await repo.derived_of_originals(list(removed))
                   if d.user_key == user_key]
        await repo.delete_derived([d.derived_media_id for d in derived])
        recorded = await repo.rendition_objects_of(user_key, list(removed))
        await repo.forget_rendition_objects([o.object_key for o in recorded])
        for event in await repo.get_events(list(events)):
            await _regroup(deps, repo, event, now, leaving=removed)
        await deps.storage.delete(sorted({d.object_key for d in derived}
                                         | {o.object_key for o in recorded}))
        for prefix in prefixes:
            await deps.storage.delete_prefix(prefix)
    deps.wake_planner()
    log.info("media_removed", count=len(removed), suggestions_touched=len(prefixes))
    return len(items)


# --- consent ------------------------------------------------------------------------------

async def consent_changed(deps: Deps, event: ConsentChanged) -> Outcome:
    """Opting out of the camera roll stops suggestions: open ones are withdrawn (previews
    deleted) and the user's photo state is dropped. What the user already saved or shared
    stays theirs; erasure, if asked for, arrives as MediaErased."""
    d = event.data
    now = deps.clock()
    async with deps.uow() as repo:
        await repo.lock_user(d.user_key)
        current = await repo.consent(d.user_key)
        if current is not None and current.ledger_seq >= d.ledger_seq:
            return Outcome.stale
        await repo.save_consent(Consent(d.user_key, d.camera_roll, d.ledger_seq, d.changed_at))
        if d.camera_roll:
            return Outcome.updated
        open_ = await repo.suggestions_of_user(d.user_key, [SuggestionStatus.proposed])
        for s in open_:
            gone = withdrawn(s, now)
            await repo.save_suggestion(gone)
            await _announce_withdrawal(repo, gone, WithdrawalReason.opted_out, now)
        await repo.delete_user_media(d.user_key)
        for s in open_:
            await deps.storage.delete_prefix(suggestion_prefix(d.user_key, s.suggestion_id))
    log.info("camera_roll_opt_out", withdrawn=len(open_))
    return Outcome.opted_out
