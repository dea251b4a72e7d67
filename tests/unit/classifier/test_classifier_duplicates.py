"""Near-duplicate groups: one best shot per burst, later better shots supersede."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from gemroll_classifier.domain.duplicates import Shot, assign_groups, group_for, hamming


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


RNG = np.random.default_rng(0)
SCENE_A = unit(RNG.normal(size=64))
SCENE_B = unit(RNG.normal(size=64))


def near(base: np.ndarray, eps: float = 0.05) -> np.ndarray:
    return unit(base + eps * unit(RNG.normal(size=base.size)))


T0 = datetime(2024, 6, 1, tzinfo=UTC)


def shot(mid: str, emb: np.ndarray, q: float, phash: int = 0xF0F0, cat: str = "photo",
         at: float | None = 0.0) -> Shot:
    return Shot(media_id=mid, category=cat, phash=phash, embedding=emb, quality_score=q,
                captured_at=None if at is None else T0 + timedelta(seconds=at))


def test_burst_in_one_batch_has_exactly_one_best():
    shots = [shot("a1", near(SCENE_A), 0.5), shot("a2", near(SCENE_A), 0.9),
             shot("a3", near(SCENE_A), 0.7), shot("b1", SCENE_B, 0.6)]
    d = assign_groups(shots, [])
    assert d["a1"].group_id == d["a2"].group_id == d["a3"].group_id != d["b1"].group_id
    assert [d[m].is_best for m in ("a1", "a2", "a3", "b1")] == [False, True, False, True]
    assert d["a1"].best_id == "a2" and d["a3"].best_id == "a2"
    assert d["a1"].group_id == group_for("a1")


def test_later_better_shot_supersedes_the_stored_best():
    old = shot("old", near(SCENE_A), 0.6)
    old.group_id, old.is_best = group_for("old"), True
    d = assign_groups([shot("new", near(SCENE_A), 0.95)], [old])
    assert d["new"].group_id == group_for("old")
    assert d["new"].is_best and d["new"].supersedes == "old"
    assert not old.is_best


def test_later_worse_shot_points_to_the_stored_best():
    old = shot("old", near(SCENE_A), 0.9)
    old.group_id, old.is_best = group_for("old"), True
    d = assign_groups([shot("new", near(SCENE_A), 0.5)], [old])
    assert not d["new"].is_best and d["new"].best_id == "old"
    assert old.is_best


def test_burst_needs_a_close_hash():
    mid = unit(SCENE_A + 0.9 * SCENE_B)  # cosine ~0.7 to SCENE_A
    a = shot("a", SCENE_A, 0.5, phash=0)
    far_hash = shot("x", mid, 0.5, phash=(1 << 64) - 1, at=1)
    close_hash = shot("y", mid, 0.5, phash=0b111, at=2)
    d = assign_groups([a, far_hash, close_hash], [])
    assert d["a"].group_id != d["x"].group_id
    assert d["a"].group_id == d["y"].group_id


def test_similar_shots_hours_apart_are_distinct_photos():
    mid = unit(SCENE_A + 0.3 * SCENE_B)  # cosine ~0.95 to SCENE_A, not identical
    far_hash = 0xFFFF_FFFF_0000_0000
    d = assign_groups([shot("a", SCENE_A, 0.5), shot("b", mid, 0.5, phash=far_hash, at=7200)],
                      [])
    assert d["a"].group_id != d["b"].group_id
    same = assign_groups([shot("c", SCENE_A, 0.5, at=None), shot("e", near(SCENE_A, 0.01), 0.6,
                                                                    at=None)], [])
    assert same["c"].group_id == same["e"].group_id


def test_different_categories_never_group():
    d = assign_groups([shot("p", SCENE_A, 0.5), shot("s", SCENE_A, 0.5, cat="screenshot")], [])
    assert d["p"].group_id != d["s"].group_id


def test_hamming():
    assert hamming(0b1011, 0b0001) == 2


def test_groups_do_not_chain_through_a_middle_frame():
    """A slow pan: each frame resembles its neighbour, the last one no longer the first.
    Only shots that resemble the group's best frame join it."""
    a = SCENE_A
    c = unit(a + 2.2 * SCENE_B)  # far from a: cosine well under the burst rule
    b = unit(a + c)  # between the two: close to each
    assert float(a @ c) < 0.55 < min(float(a @ b), float(b @ c))
    d = assign_groups([shot("a", a, 0.9), shot("b", b, 0.5), shot("c", c, 0.6)], [])
    assert d["a"].group_id == d["b"].group_id
    assert d["c"].group_id != d["a"].group_id  # chaining would have put c with a via b
    assert d["c"].is_best and d["a"].is_best and not d["b"].is_best
