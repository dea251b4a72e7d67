"""Grouping photos into events, collapsing bursts, and picking a diverse set.

Two photos are *linked* when their capture times are at most `gap` apart and their coarse
locations are at most `max_distance_km` apart (an unknown location links to any place).
An event is a connected component of that relation: photos chained by links. The definition
does not depend on arrival order, so placing photos one by one as they arrive gives the same
events as grouping them all at once (see `place` and `group_into_events`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from .geo import min_distance_km
from .model import MediaItem, Moment


@dataclass(frozen=True)
class GroupingRules:
    gap: timedelta = timedelta(hours=3)
    max_distance_km: float = 25.0


def linked(a: Moment, b: Moment, rules: GroupingRules) -> bool:
    if abs(a.taken_at - b.taken_at) > rules.gap:
        return False
    if a.coarse_location is None or b.coarse_location is None:
        return True
    return min_distance_km(a.coarse_location, b.coarse_location) <= rules.max_distance_km


def place(new: Moment, neighbours: Iterable[Moment], rules: GroupingRules) -> list[UUID]:
    """The events `new` links to (ids, in order of first appearance among the neighbours).

    `neighbours` are already placed photos near `new` in time; none means a new event,
    several mean `new` bridges them and they become one event.
    """
    found: list[UUID] = []
    for other in neighbours:
        if other.event_id is not None and other.event_id not in found and linked(new, other, rules):
            found.append(other.event_id)
    return found


def group_into_events(moments: Sequence[Moment], rules: GroupingRules) -> list[list[Moment]]:
    """All-at-once grouping: the connected components, each sorted by time, ordered by start."""
    ordered = sorted(moments, key=lambda m: (m.taken_at, str(m.media_id)))
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            b = ordered[j]
            if b.taken_at - a.taken_at > rules.gap:
                break
            if linked(a, b, rules):
                parent[root(j)] = root(i)
    groups: dict[int, list[Moment]] = {}
    for i, m in enumerate(ordered):
        groups.setdefault(root(i), []).append(m)
    return sorted(groups.values(), key=lambda g: (g[0].taken_at, str(g[0].media_id)))


def quality_key(item: MediaItem) -> tuple[float, float, bool, str]:
    """Best shot first: quality score, then gem score, then the classifier's pick."""
    return (item.quality_score or 0.0, item.gem_score, item.is_best_in_group, str(item.media_id))


def collapse_bursts(items: Iterable[MediaItem]) -> list[MediaItem]:
    """One photo per near-duplicate group: the one with the highest quality score.

    The score decides, not the classifier's `is_best_in_group` flag, which may be stale
    when a better shot of the burst was classified later.
    """
    best: dict[UUID, MediaItem] = {}
    singles: list[MediaItem] = []
    for item in items:
        if item.duplicate_group is None:
            singles.append(item)
            continue
        current = best.get(item.duplicate_group)
        if current is None or quality_key(item) > quality_key(current):
            best[item.duplicate_group] = item
    return singles + list(best.values())


def similarity(a: MediaItem, b: MediaItem) -> float:
    """Cosine similarity of the (L2-normalised) embeddings; 0 when either is missing."""
    if a.embedding is None or b.embedding is None or len(a.embedding) != len(b.embedding):
        return 0.0
    return math.fsum(x * y for x, y in zip(a.embedding, b.embedding, strict=True))


T = TypeVar("T", bound=MediaItem)


def select_diverse(
    items: Sequence[T],
    k: int,
    *,
    score: Callable[[MediaItem], float] = lambda m: m.gem_score,
    diversity: float = 0.3,
    near_duplicate: float = 0.97,
) -> list[T]:
    """Greedy maximal marginal relevance: good photos that do not look alike.

    Each step takes the photo maximising `(1 - diversity) * score - diversity * max_sim`
    over the photos taken so far; photos at least `near_duplicate` similar to a chosen one
    are skipped. Deterministic: ties go to the smaller media id.
    """
    pool = sorted(items, key=lambda m: (-score(m), str(m.media_id)))
    chosen: list[T] = []
    while pool and len(chosen) < k:
        def gain(m: MediaItem) -> float:
            closest = max((similarity(m, c) for c in chosen), default=0.0)
            return (1 - diversity) * score(m) - diversity * closest

        best = max(pool, key=lambda m: (gain(m), -pool.index(m)))  # type: ignore[arg-type]
        pool.remove(best)
        if any(similarity(best, c) >= near_duplicate for c in chosen):
            continue
        chosen.append(best)
    return chosen
