"""Use cases driven by consumed events: a photo was classified, consent changed, photos were
deleted or erased. Each runs in one transaction under the user's lock, so redelivery and
concurrent planning see a consistent state. The rules they follow live in `domain`
(`intake`, `grouping`, `retraction`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_contracts import ConsentChanged, MediaClassified, MediaErased, UserAction
from gemroll_contracts.users import ActionKind

from ..domain import (
    WITHDRAWN_AT_OPT_OUT,
    Consent,
    Outcome,
    media_item,
    opted_out,
    refusal,
    without_media,
)
from ..domain.model import suggestion_prefix
from ..metrics import CLASSIFIED
from ..ports import Transaction
from .deps import Deps, apply_change
from .placement import detach, place_photo, regroup

log = get_logger(__name__)


# --- a photo was classified -----------------------------------------------------------------

async def media_classified(deps: Deps, event: MediaClassified) -> Outcome:
    [outcome] = await media_classified_batch(deps, [event])
    return outcome


async def media_classified_batch(deps: Deps, events: Sequence[MediaClassified]
                                 ) -> list[Outcome]:
    """A poll's classifications in one transaction (one commit, not one per photo), each
    applied in topic order. The users are locked up front in one fixed order, so batches of
    two instances and the planner (which holds one user at a time) never wait in a cycle. If
    any event fails, the whole batch rolls back and the runner retries or isolates it."""
    now = deps.clock()
    async with deps.uow() as tx:
        for user_key in sorted({e.data.user_key for e in events}):
            await tx.lock_user(user_key)
        outcomes = [await _classified(deps, tx, event, now) for event in events]
    for outcome in outcomes:
        CLASSIFIED.labels(outcome.value).inc()
    if any(o in (Outcome.stored, Outcome.updated) for o in outcomes):
        deps.wake_planner()
    return outcomes


async def _classified(deps: Deps, tx: Transaction, event: MediaClassified,
                      now: datetime) -> Outcome:
    item = media_item(event)
    intake = await tx.media.intake(item.user_key, item.media_id)
    old = intake.existing
    refused = refusal(item, consent=intake.consent, removed=intake.removed, existing=old)
    if refused is Outcome.ignored:
        log.warning("media_owner_mismatch", media_id=str(item.media_id))
    if refused is not None:
        return refused
    rules = deps.settings.grouping
    quiet_until = now + timedelta(seconds=deps.settings.quiet_seconds)

    if old is not None:
        same_place = (old.taken_at, old.coarse_location) == (item.taken_at, item.coarse_location)
        if same_place and old.event_id is not None:
            item = replace(item, event_id=old.event_id)
            await tx.media.save(item)
            if item.plan_fields() == old.plan_fields():
                return Outcome.unchanged
            events = await tx.events.get([old.event_id])
            if events:
                await tx.events.save(events[0].touched(quiet_until))
            return Outcome.updated
        await detach(tx, rules, old, now)  # moved in time or place: placed again below

    dropped: list[str] = []
    placed = await place_photo(tx, rules, item, now, quiet_until, dropped)
    await tx.media.save_placement(placed, replace(item, event_id=placed.event_id))
    if dropped:
        await deps.storage.delete(dropped)
    return Outcome.updated if old is not None else Outcome.stored


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


async def media_removed(deps: Deps, user_key: str, media_ids: Sequence[UUID]) -> int:
    """Drop the photos, every suggestion and rendition made of them, and their pixels in S3.

    The public topic learns it in the same transaction (outbox): every suggestion that
    showed a removed photo is revised or withdrawn at once (`domain.without_media`); its
    objects are deleted and the planner renders the revised ones at once. The ids are
    remembered so that a late classification of the same photo is ignored. Objects are
    deleted before the commit: if S3 fails, the whole removal is retried.
    """
    now = deps.clock()
    removed = set(media_ids)
    async with deps.uow() as tx:
        await tx.lock_user(user_key)
        await tx.media.add_removed(user_key, list(removed))
        items = [m for m in await tx.media.get(list(removed)) if m.user_key == user_key]
        await tx.media.delete([m.media_id for m in items])
        events = {m.event_id for m in items if m.event_id is not None}
        touched = await tx.suggestions.with_media(user_key, list(removed))
        for s in touched:
            await apply_change(tx, without_media(s, removed, now))
        events |= {s.event_id for s in touched if s.event_id is not None}
        objects = await _forget_renditions(tx, user_key, removed)
        for event in await tx.events.get(list(events)):
            await regroup(tx, deps.settings.grouping, event, now, leaving=removed)
        await deps.storage.delete(objects)
        for s in touched:
            await deps.storage.delete_prefix(suggestion_prefix(user_key, s.suggestion_id))
    deps.wake_planner()
    log.info("media_removed", count=len(removed), suggestions_touched=len(touched))
    return len(items)


async def _forget_renditions(tx: Transaction, user_key: str, removed: set[UUID]) -> list[str]:
    """Drop the renditions of removed photos, found by their object records too (those whose
    action never committed); returns the object keys to delete."""
    derived = [d for d in await tx.renditions.of_originals(list(removed))
               if d.user_key == user_key]
    await tx.renditions.delete([d.derived_media_id for d in derived])
    recorded = await tx.renditions.objects_of(user_key, list(removed))
    await tx.renditions.forget_objects([o.object_key for o in recorded])
    return sorted({d.object_key for d in derived} | {o.object_key for o in recorded})


# --- consent ------------------------------------------------------------------------------

async def consent_changed(deps: Deps, event: ConsentChanged) -> Outcome:
    """Opting out of the camera roll stops suggestions: open ones are withdrawn (their
    objects deleted) and the user's photo state is dropped; every public share link is revoked
    (deleted with erasure). What the user already saved or shared stays theirs; erasure, if
    asked for, arrives as MediaErased. The highest ledger position wins, whatever order
    consent changes arrive in."""
    d = event.data
    now = deps.clock()
    async with deps.uow() as tx:
        await tx.lock_user(d.user_key)
        current = await tx.consent.get(d.user_key)
        if not d.supersedes(current.ledger_seq if current is not None else None):
            return Outcome.stale
        await tx.consent.save(Consent(d.user_key, d.camera_roll, d.ledger_seq, d.changed_at))
        if d.camera_roll:
            return Outcome.updated
        if d.erase_data:  # public links go with the account
            await tx.share_links.delete_of_user(d.user_key)
        else:  # closed for good, even if the user opts in again
            await tx.share_links.revoke_of_user(d.user_key, now)
        open_ = await tx.suggestions.of_user(d.user_key, WITHDRAWN_AT_OPT_OUT)
        for s in open_:
            await apply_change(tx, opted_out(s, now))
        await tx.media.delete_user_media(d.user_key)
        for s in open_:
            await deps.storage.delete_prefix(suggestion_prefix(d.user_key, s.suggestion_id))
    log.info("camera_roll_opt_out", withdrawn=len(open_))
    return Outcome.opted_out
