"""Near-duplicate groups among one user's recent media, and the best shot of each group.

Two shots are near duplicates when, taken within minutes of each other, their embeddings
are close and their perceptual hashes similar, or, further apart in time (or with unknown
capture times), both are very close. Every readable item gets a group (a singleton at
first) so later shots can join it. Events already published cannot change, so a later,
better shot *supersedes* the best: it is published with `is_best_in_group=true` and
`duplicate:supersedes:<old best>`, and consumers take the latest best claim of a group
(equivalently: the highest gem score among the group's best claims). Items of one
micro-batch are resolved together in capture-time order, so a burst inside one batch ends
with exactly one best shot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .scorer import DuplicateDecision

GROUP_NAMESPACE = uuid.UUID("5b0d7e2a-3c1f-4f4e-9a51-6a8f7c2d9e10")


@dataclass(frozen=True)
class DuplicateRules:
    """Tuned on the sample roll (seed 1): burst frames vs distinct crops of one photo."""

    burst_seconds: float = 300.0  # shots this close in capture time ...
    burst_cosine: float = 0.55  # ... are duplicates with embeddings this close ...
    burst_hash_distance: int = 22  # ... and perceptual hashes within this many bits (of 64)
    cosine: float = 0.95  # otherwise (or capture time unknown) both must be much closer
    hash_distance: int = 12
    best_margin: float = 0.005  # a later shot must beat the best by this much


@dataclass
class Shot:
    """What grouping needs to know about one media item."""

    media_id: str
    category: str
    phash: int
    embedding: np.ndarray  # L2-normalised
    quality_score: float
    captured_at: datetime | None = None
    group_id: str | None = None
    is_best: bool = False


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def group_for(media_id: str) -> str:
    """The id of the group an item founds (deterministic, so retries agree)."""
    return str(uuid.uuid5(GROUP_NAMESPACE, media_id))


def capture_order(captured_at: datetime | None, uploaded_at: datetime) -> tuple[int, datetime]:
    """The order a batch's shots are grouped in: those with a capture time first, by capture
    time, then the others by upload time."""
    return (0, captured_at) if captured_at else (1, uploaded_at)


def group_bests(decisions: Mapping[str, DuplicateDecision]) -> dict[str, str]:
    """Each touched group's best shot after these decisions (media id by group id)."""
    return {d.group_id: d.best_id or media_id
            for media_id, d in decisions.items() if d.group_id}


def _seconds_apart(a: Shot, b: Shot) -> float:
    if a.captured_at is None or b.captured_at is None:
        return float("inf")
    return abs((a.captured_at - b.captured_at).total_seconds())


def _match(shot: Shot, recent: Sequence[Shot], rules: DuplicateRules) -> Shot | None:
    candidates = [r for r in recent if r.category == shot.category and r.media_id != shot.media_id]
    if not candidates:
        return None
    sims = np.stack([r.embedding for r in candidates]) @ shot.embedding
    best: Shot | None = None
    best_sim = -1.0
    for r, sim in zip(candidates, sims.tolist(), strict=True):
        distance = hamming(r.phash, shot.phash)
        if _seconds_apart(r, shot) <= rules.burst_seconds:
            close = sim >= rules.burst_cosine and distance <= rules.burst_hash_distance
        else:
            close = sim >= rules.cosine and distance <= rules.hash_distance
        if close and sim > best_sim:
            best, best_sim = r, sim
    return best


def _representative(shots: Sequence[Shot]) -> Shot:
    """The group's current best frame (its stored best, else its highest quality)."""
    stored = [s for s in shots if s.is_best]
    return stored[0] if stored else max(shots, key=lambda s: s.quality_score)


def assign_groups(new: Iterable[Shot], recent: Sequence[Shot],
                  rules: DuplicateRules = DuplicateRules()) -> dict[str, DuplicateDecision]:
    """Group the new shots (one user's, in capture order) with the recent ones and each other.

    `recent` shots carry their stored group and whether they are the group's current best;
    they are updated in place (the caller persists `is_best` changes).
    """
    loose = [s for s in recent if not s.group_id]  # stored before groups were kept
    members: dict[str, list[Shot]] = {}
    for shot in recent:
        if shot.group_id:
            members.setdefault(shot.group_id, []).append(shot)
    # a shot joins a group by resembling the group's best frame, never just any member
    # (no chaining: A ~ B ~ C does not put A and C together unless C resembles the best)
    faces = {g: _representative(shots) for g, shots in members.items()}
    fresh: list[Shot] = []
    for shot in new:
        match = _match(shot, [*faces.values(), *loose], rules)
        shot.group_id = match.group_id if match and match.group_id else group_for(shot.media_id)
        if match and not match.group_id:
            match.group_id = shot.group_id
            loose.remove(match)
            members.setdefault(shot.group_id, []).append(match)
        members.setdefault(shot.group_id, []).append(shot)
        faces[shot.group_id] = _representative(members[shot.group_id])
        fresh.append(shot)

    decisions: dict[str, DuplicateDecision] = {}
    fresh_ids = {s.media_id for s in fresh}
    for group_id in {s.group_id for s in fresh if s.group_id}:
        shots = members[group_id]
        old_best = next((s for s in shots if s.is_best and s.media_id not in fresh_ids), None)
        new_shots = [s for s in shots if s.media_id in fresh_ids]
        top_new = max(new_shots, key=lambda s: s.quality_score)
        if old_best is None or top_new.quality_score > old_best.quality_score + rules.best_margin:
            best, superseded = top_new, old_best
        else:
            best, superseded = old_best, None
        for s in shots:
            s.is_best = s is best
        for s in new_shots:
            if s is best:
                decisions[s.media_id] = DuplicateDecision(
                    group_id=group_id, is_best=True,
                    supersedes=superseded.media_id if superseded else None)
            else:
                decisions[s.media_id] = DuplicateDecision(
                    group_id=group_id, is_best=False, best_id=best.media_id)
    return decisions
