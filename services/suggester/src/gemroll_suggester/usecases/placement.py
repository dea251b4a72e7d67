"""Where a photo goes among its user's events: placing it (merging the events it bridges) and
regrouping an event that photos left. Runs inside the caller's transaction (user locked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from ..domain import (
    EventRecord,
    GroupingRules,
    MediaItem,
    follows_split,
    group_into_events,
    merged,
    place,
)
from ..domain.model import event_id_for, revision_objects
from ..ports import Transaction
from .deps import apply_change


async def place_photo(tx: Transaction, rules: GroupingRules, item: MediaItem, now: datetime,
                      quiet_until: datetime, dropped: list[str]) -> EventRecord:
    """The event the photo joins (not saved yet): new, or the earliest of those it links
    to, into which the others are merged when the photo bridges them. Previews no longer
    used are added to `dropped`."""
    near = await tx.media.neighbourhood(item.user_key, item.taken_at - rules.gap,
                                        item.taken_at + rules.gap)
    neighbours = [m for m in near.moments if m.media_id != item.media_id]
    linked_ids = place(item.moment, neighbours, rules)
    events = sorted((near.events[i] for i in linked_ids if i in near.events),
                    key=lambda e: (e.start_at, str(e.event_id)))
    if not events:
        event = EventRecord(event_id_for(item.media_id), item.user_key, item.taken_at,
                            item.taken_at, version=1, dirty=False)
        return event.touched(quiet_until) if item.is_gem else event
    survivor, absorbed = events[0], events[1:]
    survivor = survivor.extended(item.taken_at)
    if absorbed:
        survivor = await _merge(tx, survivor, absorbed, now, dropped)
    if item.is_gem or absorbed:
        survivor = survivor.touched(quiet_until)
    return survivor


async def _merge(tx: Transaction, survivor: EventRecord, absorbed: Sequence[EventRecord],
                 now: datetime, dropped: list[str]) -> EventRecord:
    """One event remains; the absorbed events' suggestions move to it (`domain.merged`)."""
    ids = [e.event_id for e in absorbed]
    await tx.media.move(None, ids, survivor.event_id)
    for s in await tx.suggestions.of_events(ids):
        change = merged(s, survivor.event_id, now)
        await apply_change(tx, change)
        if change.drop_preview:
            dropped += revision_objects(change.drop_preview)
    await tx.events.delete(ids)
    for e in absorbed:
        survivor = survivor.extended(e.start_at).extended(e.end_at)
    return survivor


async def detach(tx: Transaction, rules: GroupingRules, item: MediaItem, now: datetime) -> None:
    """Take a photo out of its event (already removed from, or about to be re-saved in, media)."""
    if item.event_id is None:
        return
    events = await tx.events.get([item.event_id])
    if events:
        await regroup(tx, rules, events[0], now, leaving={item.media_id})


async def regroup(tx: Transaction, rules: GroupingRules, event: EventRecord, now: datetime,
                  leaving: set[UUID]) -> None:
    """After photos left an event it may have split in two (a bridge is gone) or emptied.

    The part holding the earliest photo keeps the event id; other parts become new events.
    All parts are planned again right away (no quiet period: something was taken away).
    """
    media = [m for m in await tx.media.of_event(event.event_id) if m.media_id not in leaving]
    if not media:
        await tx.events.delete([event.event_id])
        return
    groups = group_into_events([m.moment for m in media], rules)
    first = groups[0]
    await tx.events.save(replace(event, start_at=first[0].taken_at,
                                 end_at=first[-1].taken_at).touched(now))
    if len(groups) == 1:
        return
    suggestions = await tx.suggestions.of_events([event.event_id])
    for group in groups[1:]:
        ids = [m.media_id for m in group]
        split = EventRecord(event_id_for(ids[0]), event.user_key, group[0].taken_at,
                            group[-1].taken_at).touched(now)
        await tx.events.save(split)
        await tx.media.move(ids, [event.event_id], split.event_id)
        for s in suggestions:
            if follows_split(s, ids):
                await tx.suggestions.save(replace(s, event_id=split.event_id))
