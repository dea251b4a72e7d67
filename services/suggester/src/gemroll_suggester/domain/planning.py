"""What to suggest for one event (how that changes the suggestions already made is
`revisions`).

Never suggested: non-gems, unreadable photos, and — in highlights and collages, which are
meant for sharing — photos with a high (or unknown, unless allowed) NSFW score. Deleted
photos and opted-out users never reach the planner (intake drops them first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gemroll_contracts import EditRecipe, SuggestionKind

from . import titles
from .grouping import collapse_bursts, select_diverse
from .model import (
    EventRecord,
    MediaItem,
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


def by_time(items: Sequence[MediaItem]) -> tuple[UUID, ...]:
    return tuple(m.media_id for m in sorted(items, key=lambda m: (m.taken_at, str(m.media_id))))


def _multi_draft(kind: SuggestionKind, event: EventRecord, chosen: Sequence[MediaItem]) -> Draft:
    start = min(m.taken_at for m in chosen)
    end = max(m.taken_at for m in chosen)
    return Draft(
        suggestion_id=suggestion_id_for(kind, event.event_id),
        kind=kind,
        media_ids=by_time(chosen),
        title=titles.title(kind, start, end, (m.coarse_location for m in chosen)),
        shareable=True,
        event_start=start,
        event_end=end,
    )


def plan_event(event: EventRecord, media: Sequence[MediaItem], rules: PlanRules,
               *, edited_media: frozenset[UUID] = frozenset()) -> EventPlan:
    """Highlight, collage and edit candidates for one event.

    `edited_media` are photos that already have an edit suggestion; they are not candidates.
    Videos take part in highlights and collages (by their poster frame), never in photo edits.
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

    photos = (m for m in best if not m.is_video)
    ranked = sorted(photos, key=lambda m: (-m.gem_score, str(m.media_id)))[: rules.edits_per_event]
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
