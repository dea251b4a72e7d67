"""How a plan changes the suggestions already made: new ones, new revisions, withdrawals.

A suggestion's revisions only grow; what the user acted on keeps its photos (minus removed
ones), and an unchanged plan publishes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from gemroll_contracts import SuggestionKind, WithdrawalReason

from .model import EventRecord, MediaItem, SuggestionRecord, SuggestionStatus, fingerprint
from .planning import Draft, PlanRules, eligible, shareable

ACTED = frozenset({SuggestionStatus.edited, SuggestionStatus.saved, SuggestionStatus.shared})
MIN_MEDIA = {SuggestionKind.edit: 1, SuggestionKind.highlight: 1, SuggestionKind.collage: 2}
"""How few photos a suggestion the user already acted on may keep after deletions."""


@dataclass(frozen=True)
class Change:
    record: SuggestionRecord
    render: bool
    """A new preview is needed for this revision."""
    publish: bool
    """Publish SuggestionCreated for this revision."""
    drop_preview: str | None = None
    """A preview object that is no longer used (delete after commit)."""
    is_new: bool = False
    withdraw: WithdrawalReason | None = None
    """Publish SuggestionWithdrawn for this (already bumped) revision, with this reason."""
    delete: bool = False
    """Delete the row (after publishing what the change says): nothing is left to revise."""


def new_record(draft: Draft, user_key: str, event_id: UUID, now: datetime) -> SuggestionRecord:
    return SuggestionRecord(
        suggestion_id=draft.suggestion_id, user_key=user_key, event_id=event_id,
        kind=draft.kind, revision=1, media_ids=draft.media_ids, title=draft.title,
        status=SuggestionStatus.proposed, recipe=draft.recipe, preview_object_key=None,
        event_start=draft.event_start, event_end=draft.event_end, shareable=draft.shareable,
        fingerprint=draft.fingerprint, created_at=now, updated_at=now,
    )


def _revised(old: SuggestionRecord, draft: Draft, now: datetime) -> SuggestionRecord:
    return replace(
        old, revision=old.revision + 1, media_ids=draft.media_ids, title=draft.title,
        status=SuggestionStatus.proposed, recipe=draft.recipe, preview_object_key=None,
        event_start=draft.event_start, event_end=draft.event_end, shareable=draft.shareable,
        fingerprint=draft.fingerprint, updated_at=now, stale=False,
    )


def reconcile(event: EventRecord, existing: Sequence[SuggestionRecord], drafts: Sequence[Draft],
              now: datetime) -> list[Change]:
    """New suggestions, new revisions, and withdrawals that turn `existing` into the plan.

    * a draft without a suggestion becomes revision 1;
    * a proposed (or withdrawn) suggestion whose content changed gets revision + 1, the same id;
    * an unchanged one is left alone (redelivery and re-planning never duplicate);
    * what the user already acted on keeps its photos, minus removed ones (then revision + 1);
    * a proposed highlight or collage the plan no longer supports is withdrawn.
    """
    by_id = {s.suggestion_id: s for s in existing}
    changes: list[Change] = []
    drafted: set[UUID] = set()
    for draft in drafts:
        drafted.add(draft.suggestion_id)
        old = by_id.get(draft.suggestion_id)
        if old is None:
            changes.append(Change(new_record(draft, event.user_key, event.event_id, now),
                                  render=True, publish=True, is_new=True))
        elif old.status in (SuggestionStatus.proposed, SuggestionStatus.withdrawn):
            unchanged = (old.status is SuggestionStatus.proposed and not old.stale
                         and old.fingerprint == draft.fingerprint
                         and old.preview_object_key is not None)
            if not unchanged:
                changes.append(Change(_revised(old, draft, now), render=True, publish=True,
                                      drop_preview=old.preview_object_key))
    for old in existing:
        if old.suggestion_id in drafted and old.status not in ACTED | {SuggestionStatus.dismissed}:
            continue
        change = _settle(old, event, now)
        if change is not None:
            changes.append(change)
    return changes


def refresh_edits(existing: Sequence[SuggestionRecord], media: dict[UUID, MediaItem],
                  rules: PlanRules, now: datetime) -> list[Change]:
    """Edits follow their photo's reclassification: a photo that is no longer a gem loses its
    open edit suggestion, and `shareable` tracks the photo's current NSFW score."""
    changes = []
    for s in existing:
        item = media.get(s.media_ids[0])
        if s.kind is not SuggestionKind.edit or s.status is SuggestionStatus.withdrawn or not item:
            continue
        if s.status is SuggestionStatus.proposed and not eligible(item):
            changes.append(Change(withdrawn(s, now), render=False, publish=False,
                                  drop_preview=s.preview_object_key,
                                  withdraw=WithdrawalReason.no_longer_suggested))
        elif shareable(item, rules) != s.shareable:
            share = shareable(item, rules)
            changes.append(Change(replace(
                s, shareable=share, updated_at=now,
                fingerprint=fingerprint(s.kind, s.media_ids, s.title, s.recipe, share)),
                render=False, publish=False))
    return changes


def withdrawn(record: SuggestionRecord, at: datetime,
              status: SuggestionStatus = SuggestionStatus.withdrawn) -> SuggestionRecord:
    """The record taken back: the next revision (published as `suggestion.withdrawn`), no
    preview, nothing left to plan."""
    return replace(record, revision=record.revision + 1, status=status,
                   preview_object_key=None, stale=False, updated_at=at)


def _settle(old: SuggestionRecord, event: EventRecord, now: datetime) -> Change | None:
    """A suggestion the plan does not (or may not) rewrite."""
    if old.status is SuggestionStatus.proposed and old.kind is not SuggestionKind.edit:
        reason = (WithdrawalReason.media_removed if old.stale
                  else WithdrawalReason.no_longer_suggested)
        return Change(withdrawn(old, now), render=False, publish=False,
                      drop_preview=old.preview_object_key, withdraw=reason)
    if not old.stale:
        return None
    if old.status in ACTED and len(old.media_ids) >= MIN_MEDIA[old.kind]:
        title = old.title
        revised = replace(old, revision=old.revision + 1, title=title, preview_object_key=None,
                          stale=False, updated_at=now,
                          fingerprint=fingerprint(old.kind, old.media_ids, title, old.recipe,
                                                  old.shareable))
        return Change(revised, render=True, publish=True)
    status = old.status if old.status is SuggestionStatus.dismissed else SuggestionStatus.withdrawn
    return Change(withdrawn(old, now, status), render=False, publish=False,
                  drop_preview=old.preview_object_key, withdraw=WithdrawalReason.media_removed)
