"""The memories pass: once in a while (`memories_interval_seconds`), each user with events
from today's date in earlier years may get today's "on this day" highlight
(`domain.memories`), with its cover rendered like any highlight's and published on the public
topic (`occasion: on_this_day`). Made once: the id is the event's and the year's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import groupby

from gemroll_common.logging import get_logger
from gemroll_contracts import ON_THIS_DAY
from PIL import Image

from ..domain import Change, EventRecord
from ..domain.memories import PastEvent, earlier_memory_years, memory_id, plan_memory
from ..domain.revisions import new_record
from .deps import Deps, apply_change
from .previews import Previews

log = get_logger(__name__)

EVENTS_PER_PASS = 20_000
"""Events of one calendar day looked at per pass (all users together)."""


async def plan_memories(deps: Deps, previews: Previews) -> int:
    """Make today's memories; returns how many were made."""
    today = deps.clock().astimezone(UTC).date()
    async with deps.uow() as tx:
        events = await tx.events.on_calendar_day(
            today.month, today.day, datetime(today.year, 1, 1, tzinfo=UTC), EVENTS_PER_PASS)
    made = 0
    for user_key, of_user in groupby(events, key=lambda e: e.user_key):
        try:
            made += await _memory_of(deps, previews, user_key, list(of_user), today)
        except Exception as exc:  # noqa: BLE001 - one user's trouble must not stop the others
            log.warning("memory_failed", error_type=type(exc).__name__, error=str(exc)[:300])
    return made


async def _past(deps: Deps, user_key: str, events: list[EventRecord],
                today: date) -> list[PastEvent] | None:
    """What the rules need, or None when there is nothing to do for the user today."""
    async with deps.uow() as tx:
        consent = await tx.consent.get(user_key)
        if consent is None or not consent.camera_roll:
            return None
        for e in events:
            if await tx.suggestions.get(memory_id(e.event_id, today.year)) is not None:
                return None  # today's memory was made already
        past = []
        for e in events:
            earlier = [await tx.suggestions.get(memory_id(e.event_id, y))
                       for y in earlier_memory_years(e, today)]
            past.append(PastEvent(
                e, tuple(await tx.media.of_event(e.event_id)),
                tuple(await tx.suggestions.of_events([e.event_id]))
                + tuple(s for s in earlier if s is not None)))
    return past


async def _memory_of(deps: Deps, previews: Previews, user_key: str,
                     events: list[EventRecord], today: date) -> int:
    past = await _past(deps, user_key, events, today)
    draft = plan_memory(today, past or [], deps.settings.plan_rules)
    if draft is None:
        return 0
    media = {m.media_id: m for p in past or [] for m in p.media}
    images: dict = {}
    if await previews.load(media, draft.media_ids, images):
        return 0  # a photo cannot be read now: tried again at the next pass
    now = deps.clock()
    record = replace(new_record(draft, user_key, None, now), occasion=ON_THIS_DAY)
    change = await previews.render(Change(record, render=True, publish=True, is_new=True),
                                   media, images)
    _close(images)
    async with deps.uow() as tx:
        await tx.lock_user(user_key)
        consent = await tx.consent.get(user_key)
        still_there = await tx.media.get(list(draft.media_ids))
        if (await tx.suggestions.get(record.suggestion_id) is None
                and consent is not None and consent.camera_roll
                and len(still_there) == len(draft.media_ids)):
            await apply_change(tx, change)
            log.info("memory_suggested", photos=len(draft.media_ids))
            return 1
    if change.record.preview_object_key:  # made meanwhile, opted out or a photo deleted
        await deps.storage.delete([change.record.preview_object_key])
    return 0


def _close(images: dict[object, Image.Image]) -> None:
    for image in images.values():
        image.close()


__all__ = ["plan_memories"]
