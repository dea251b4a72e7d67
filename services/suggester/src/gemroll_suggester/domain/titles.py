"""Short titles from an event's time and (coarse, offline) place.

Examples: "Saturday afternoon, 14 Mar 2026 · Lisbon", "14–16 Mar 2026 · Tokyo",
"28 Feb – 2 Mar 2026", "Collage · Sunday morning, 15 Mar 2026".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from gemroll_contracts import SuggestionKind

from .geo import local_time, place_name

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PREFIX = {SuggestionKind.collage: "Collage", SuggestionKind.edit: "Enhanced photo"}
_LONG_DAY = timedelta(hours=7)


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"


def _day(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def when(start: datetime, end: datetime) -> str:
    """The local time span in words (`start`, `end` already in local time)."""
    if start.date() == end.date():
        weekday = _WEEKDAYS[start.weekday()]
        parts = {part_of_day(start.hour), part_of_day(end.hour)}
        if end - start <= _LONG_DAY and len(parts) == 1:
            return f"{weekday} {parts.pop()}, {_day(start)}"
        return f"{weekday}, {_day(start)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {_MONTHS[end.month - 1]} {end.year}"
    if start.year == end.year:
        return f"{start.day} {_MONTHS[start.month - 1]} – {_day(end)}"
    return f"{_day(start)} – {_day(end)}"


def main_place(geohashes: Iterable[str | None]) -> str | None:
    """The most frequent known geohash (ties: the smallest), or None."""
    counts = Counter(g for g in geohashes if g)
    if not counts:
        return None
    return min(counts, key=lambda g: (-counts[g], g))


def title(kind: SuggestionKind, start: datetime, end: datetime,
          geohashes: Iterable[str | None]) -> str:
    geohash = main_place(geohashes)
    text = when(local_time(start, geohash), local_time(end, geohash))
    place = place_name(geohash) if geohash else None
    if place:
        text = f"{text} · {place}"
    prefix = _PREFIX.get(kind)
    return f"{prefix} · {text}" if prefix else text
