"""On this day: resurface the best of an event from today's date in an earlier year.

At most one memory per user and day: among the user's events that started on today's month
and day (UTC) in an earlier year, the one with the most photos worth showing (the most recent
year on a tie), as a highlight of its best photos: eligible gems only, never junk, bursts
collapsed, nothing unshareable; deleted photos are gone from the suggester already. An event
is passed over when the user dismissed its highlight or collage, or a memory of it before.
Each (event, year) has one id, so a memory is made once however often the pass runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from gemroll_contracts import SuggestionKind

from . import titles
from .grouping import collapse_bursts, select_diverse
from .model import EventRecord, MediaItem, SuggestionRecord, SuggestionStatus
from .planning import Draft, PlanRules, by_time, eligible, shareable

MEMORIES = UUID("6a1f0c52-3d3e-4b8e-9a57-0d7c9f1e2b44")


def memory_id(event_id: UUID, year: int) -> UUID:
    return uuid5(MEMORIES, f"{event_id}:{year}")


@dataclass(frozen=True)
class PastEvent:
    event: EventRecord
    media: tuple[MediaItem, ...]
    suggestions: tuple[SuggestionRecord, ...]
    """Its highlight, collage and edits, and the memories of it made in earlier years."""


def on_this_day(event: EventRecord, today: date) -> bool:
    start = event.start_at.date()
    return (start.month, start.day) == (today.month, today.day) and start.year < today.year


def earlier_memory_years(event: EventRecord, today: date) -> range:
    return range(event.start_at.year + 1, today.year)


def plan_memory(today: date, past: Sequence[PastEvent], rules: PlanRules) -> Draft | None:
    """Today's memory for one user, or None."""
    choices = []
    for p in past:
        if not on_this_day(p.event, today) or any(
                s.status is SuggestionStatus.dismissed for s in p.suggestions):
            continue
        best = collapse_bursts(m for m in p.media if eligible(m))
        picks = select_diverse([m for m in best if shareable(m, rules)], rules.highlight_size,
                               diversity=rules.diversity, near_duplicate=rules.near_duplicate)
        if len(picks) >= rules.highlight_min:
            choices.append((len(picks), p.event.start_at, p.event, picks))
    if not choices:
        return None
    _, _, event, picks = max(choices, key=lambda c: (c[0], c[1]))
    start = min(m.taken_at for m in picks)
    end = max(m.taken_at for m in picks)
    years = today.year - event.start_at.year
    when = titles.title(SuggestionKind.highlight, start, end, (m.coarse_location for m in picks))
    ago = "1 year ago" if years == 1 else f"{years} years ago"
    return Draft(suggestion_id=memory_id(event.event_id, today.year),
                 kind=SuggestionKind.highlight, media_ids=by_time(picks),
                 title=f"On this day, {ago} · {when}"[:200], shareable=True,
                 event_start=start, event_end=end)


__all__ = ["PastEvent", "earlier_memory_years", "memory_id", "on_this_day", "plan_memory"]
