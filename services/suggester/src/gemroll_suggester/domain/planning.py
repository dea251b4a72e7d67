"""What to suggest for one event, and how that changes the suggestions already made.

Never suggested: non-gems, unreadable photos, and — in highlights and collages, which are
meant for sharing — photos with a high (or unknown, unless allowed) NSFW score. Deleted
photos and opted-out users never reach the planner (the handlers drop them first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from gemroll_contracts import EditRecipe, SuggestionKind, WithdrawalReason

from . import titles
from .grouping import collapse_bursts, select_diverse
from .model import (
    EventRecord,
    MediaItem,
    SuggestionRecord,
    SuggestionStatus,
    fingerprint,
    suggestion_id_for,
)

MAX_MEDIA = 9
"""The contract's limit of photos per suggestion."""


@dataclass(frozen=True)
class PlanRules:
    highlight_size: int = 6
    highlight_min: int = 3
    collage_size: int = 6
    collage_min: int = 2
    edits_per_event: int = 2
    nsfw_threshold: float = 0.5
    nsfw_unknown_is_safe: bool = False
    diversity: float = 0.3
    near_duplicate: float = 0.97

    def __post_init__(self) -> None:
        if not 1 <= self.highlight_min <= self.highlight_size <= MAX_MEDIA:
            raise ValueError("need 1 <= highlight_min <= highlight_size <= 9")
        if not 2 <= self.collage_min <= self.collage_size <= MAX_MEDIA:
            raise ValueError("need 2 <= collage_min <= collage_size <= 9")


def eligible(item: MediaItem) -> bool:
    """May appear in any suggestion at all."""
    return item.is_gem and item.quality_score is not None and not item.unrenderable


def shareable(item: MediaItem, rules: PlanRules) -> bool:
    """May appear in something meant for sharing (highlights, collages, shared edits)."""
    if item.nsfw_score is None:
        return rules.nsfw_unknown_is_safe
    return item.nsfw_score < rules.nsfw_threshold


@dataclass(frozen=True)
class Draft:
    """A suggestion as the plan wants it to be now."""

    suggestion_id: UUID
    kind: SuggestionKind
    media_ids: tuple[UUID, ...]
    title: str
    shareable: bool
    event_start: datetime | None
    event_end: datetime | None
    recipe: EditRecipe | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.media_ids, self.title, self.recipe, self.shareable)


@dataclass(frozen=True)
class EventPlan:
    highlight: Draft | None
    collage: Draft | None
    edit_candidates: tuple[MediaItem, ...]
    """Photos worth an auto-enhance; they become drafts once their recipe is known."""

    @property
    def drafts(self) -> list[Draft]:
        return [d for d in (self.highlight, self.collage) if d is not None]


def _by_time(items: Sequence[MediaItem]) -> tuple[UUID, ...]:
    return tuple(m.media_id for m in sorted(items, key=lambda m: (m.taken_at, str(m.media_id))))


def _multi_draft(kind: SuggestionKind, event: EventRecord, chosen: Sequence[MediaItem]) -> Draft:
    start = min(m.taken_at for m in chosen)
    end = max(m.taken_at for m in chosen)
    return Draft(
        suggestion_id=suggestion_id_for(kind, event.event_id),
        kind=kind,
        media_ids=_by_time(chosen),
        title=titles.title(kind, start, end, (m.coarse_location for m in chosen)),
        shareable=True,
        event_start=start,
        event_end=end,
    )


def plan_event(event: EventRecord, media: Sequence[MediaItem], rules: PlanRules,
               *, edited_media: frozenset[UUID] = frozenset()) -> EventPlan:
    """Highlight, collage and edit candidates for one event.

    `edited_media` are photos that already have an edit suggestion; they are not candidates.
    """
    best = collapse_bursts(m for m in media if eligible(m))
    for_sharing = [m for m in best if shareable(m, rules)]
    diverse = {"diversity": rules.diversity, "near_duplicate": rules.near_duplicate}

    highlight = None
    picks = select_diverse(for_sharing, rules.highlight_size, **diverse)
    if len(picks) >= rules.highlight_min:
        highlight = _multi_draft(SuggestionKind.highlight, event, picks)

    collage = None
    picks = select_diverse(for_sharing, rules.collage_size, **diverse)
    if len(picks) >= rules.collage_min:
        collage = _multi_draft(SuggestionKind.collage, event, picks)

    ranked = sorted(best, key=lambda m: (-m.gem_score, str(m.media_id)))[: rules.edits_per_event]
    candidates = tuple(m for m in ranked if m.media_id not in edited_media)
    return EventPlan(highlight, collage, candidates)


def edit_draft(item: MediaItem, recipe: EditRecipe, rules: PlanRules) -> Draft | None:
    """An edit suggestion when the recipe would visibly improve the photo, else None."""
    if not recipe_is_significant(recipe):
        return None
    return Draft(
        suggestion_id=suggestion_id_for(SuggestionKind.edit, item.media_id),
        kind=SuggestionKind.edit,
        media_ids=(item.media_id,),
        title=titles.title(SuggestionKind.edit, item.taken_at, item.taken_at,
                           [item.coarse_location]),
        shareable=shareable(item, rules),
        event_start=item.taken_at,
        event_end=item.taken_at,
        recipe=recipe,
    )


def recipe_is_significant(recipe: EditRecipe) -> bool:
    return (
        abs(recipe.exposure) >= 0.15
        or abs(recipe.contrast - 1) >= 0.06
        or abs(recipe.saturation - 1) >= 0.08
        or max(abs(g - 1) for g in recipe.white_balance) >= 0.04
        or abs(recipe.rotate_degrees) >= 0.5
        or recipe.crop is not None
    )


# --- reconciling a plan with what was already suggested -------------------------------------

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


def _new_record(draft: Draft, user_key: str, event_id: UUID, now: datetime) -> SuggestionRecord:
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
            changes.append(Change(_new_record(draft, event.user_key, event.event_id, now),
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
