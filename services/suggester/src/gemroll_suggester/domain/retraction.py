"""What becomes of suggestions already made when their events merge or split, their photos
are deleted, or the user opts out. Each rule returns the `Change` to apply: the record to
save (or delete) and what the public topic learns."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from gemroll_contracts import SuggestionKind, WithdrawalReason

from .model import SuggestionRecord, SuggestionStatus
from .revisions import MIN_MEDIA, Change, withdrawn

WITHDRAWN_AT_OPT_OUT = (SuggestionStatus.proposed,)
"""Opting out takes back what is still open; what the user saved or shared stays theirs."""


def merged(record: SuggestionRecord, survivor: UUID, now: datetime) -> Change:
    """A late photo bridged events: a suggestion of an absorbed event moves to the surviving
    event; an open highlight or collage is withdrawn, as the survivor's plan covers its
    photos now (its preview goes too)."""
    moved = replace(record, event_id=survivor)
    if record.kind is SuggestionKind.edit or record.status is not SuggestionStatus.proposed:
        return Change(moved, render=False, publish=False)
    return Change(withdrawn(moved, now), render=False, publish=False,
                  drop_preview=record.preview_object_key, withdraw=WithdrawalReason.superseded)


def follows_split(record: SuggestionRecord, split_media: Collection[UUID]) -> bool:
    """An event split in two: an edit hangs off its photo and follows it to the split-off
    event; highlights and collages keep the event id they were made for."""
    return record.kind is SuggestionKind.edit and record.media_ids[0] in split_media


def without_media(record: SuggestionRecord, removed: Collection[UUID],
                  now: datetime) -> Change:
    """Photos of `record` were deleted or erased: it is published again at once, as a revision
    without them (stale: the planner renders it again), or withdrawn when too few remain (an
    edit, a collage below 2) or the user had dismissed it. An edit of a removed photo, or a
    suggestion left with no photo, is deleted; other withdrawn ones keep their row, so that a
    later revision of the same id is higher. One already withdrawn is not published again."""
    remaining = tuple(m for m in record.media_ids if m not in removed)
    gone_for_good = record.kind is SuggestionKind.edit or not remaining
    if record.status is SuggestionStatus.withdrawn:  # already taken back publicly
        if gone_for_good:
            return Change(record, render=False, publish=False, delete=True)
        return Change(replace(record, media_ids=remaining, stale=False, preview_object_key=None,
                              updated_at=now), render=False, publish=False)
    if (record.kind is SuggestionKind.edit or len(remaining) < MIN_MEDIA[record.kind]
            or record.status is SuggestionStatus.dismissed):
        status = (SuggestionStatus.dismissed if record.status is SuggestionStatus.dismissed
                  else SuggestionStatus.withdrawn)
        gone = withdrawn(replace(record, media_ids=remaining or record.media_ids), now, status)
        return Change(gone, render=False, publish=False, withdraw=WithdrawalReason.media_removed,
                      delete=gone_for_good)
    revised = replace(record, revision=record.revision + 1, media_ids=remaining, stale=True,
                      preview_object_key=None, updated_at=now)
    return Change(revised, render=False, publish=True)


def opted_out(record: SuggestionRecord, now: datetime) -> Change:
    """The user switched camera-roll suggestions off: an open suggestion is withdrawn."""
    return Change(withdrawn(record, now), render=False, publish=False,
                  withdraw=WithdrawalReason.opted_out)
