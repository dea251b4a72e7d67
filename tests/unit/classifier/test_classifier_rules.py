"""The small rules the classify-batch use case applies: when NSFW runs, which camera counts,
the order shots are grouped in, each group's best, and the stable candidate id."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_classifier.domain.candidates import candidate_id
from gemroll_classifier.domain.duplicates import capture_order, group_bests
from gemroll_classifier.domain.features import MediaFacts
from gemroll_classifier.domain.nsfw import NsfwCheck, nsfw_check
from gemroll_classifier.domain.scorer import DEFAULT_THRESHOLDS, Assessment, DuplicateDecision

T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
GEM = Assessment(category="photo", quality=None, quality_score=0.8, gem_score=0.9, junk=False)
BEST = DuplicateDecision(group_id="g", is_best=True)


@pytest.mark.parametrize(("assessment", "duplicate", "skin", "expected"), [
    (GEM, BEST, 0.5, NsfwCheck.run_model),
    (GEM, BEST, 0.05, NsfwCheck.screened_safe),  # too little skin for nudity: scored safe
    (GEM, DuplicateDecision("g", is_best=False, best_id="b"), 0.5, NsfwCheck.not_needed),
    (replace(GEM, junk=True), BEST, 0.5, NsfwCheck.not_needed),
    (replace(GEM, category="screenshot"), BEST, 0.5, NsfwCheck.not_needed),
    (replace(GEM, gem_score=DEFAULT_THRESHOLDS.gem_score - 0.01), BEST, 0.5,
     NsfwCheck.not_needed),
    (replace(GEM, gem_score=DEFAULT_THRESHOLDS.gem_score), BEST, 0.5, NsfwCheck.run_model),
])
def test_nsfw_runs_only_where_it_can_change_the_outcome(assessment, duplicate, skin, expected):
    assert nsfw_check(assessment, duplicate, skin, DEFAULT_THRESHOLDS, 0.10) is expected


def test_the_files_camera_wins_and_the_upload_fills_in():
    bare = MediaFacts(width=10, height=10, file_format="JPEG")
    assert bare.with_upload_camera("Apple", None).camera_make == "Apple"
    assert bare.with_upload_camera(None, None) is bare
    tagged = replace(bare, camera_model="Pixel 8")
    assert tagged.with_upload_camera("Apple", "iPhone 15") is tagged


def test_shots_with_a_capture_time_are_grouped_first_in_capture_order():
    shots = {"late": capture_order(T0 + timedelta(hours=1), T0),
             "early": capture_order(T0, T0 + timedelta(days=1)),
             "unknown_first_upload": capture_order(None, T0 - timedelta(days=9)),
             "unknown": capture_order(None, T0)}
    assert sorted(shots, key=shots.get) == ["early", "late", "unknown_first_upload", "unknown"]


def test_each_touched_group_gets_its_best_shot():
    decisions = {"a": DuplicateDecision("g1", is_best=True),
                 "b": DuplicateDecision("g1", is_best=False, best_id="a"),
                 "c": DuplicateDecision("g2", is_best=False, best_id="old"),
                 "d": DuplicateDecision(None)}
    assert group_bests(decisions) == {"g1": "a", "g2": "old"}


def test_the_candidate_id_is_stable_per_media():
    media = uuid.uuid4()
    assert candidate_id(media) == candidate_id(media) != candidate_id(uuid.uuid4())
    assert candidate_id(media).version == 5
