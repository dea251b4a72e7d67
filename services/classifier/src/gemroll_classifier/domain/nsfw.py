"""When the NSFW model runs: only where it can still change the outcome."""

from __future__ import annotations

from enum import Enum

from .scorer import Assessment, DuplicateDecision, Thresholds


class NsfwCheck(Enum):
    not_needed = "not_needed"
    """Not a would-be gem (or not the best of its group): no score at all."""
    screened_safe = "screened_safe"
    """Too few skin-tone pixels for nudity: scores 0.0 (checked, not unknown, downstream)."""
    run_model = "run_model"


def nsfw_check(assessment: Assessment, duplicate: DuplicateDecision, skin_fraction: float,
               thresholds: Thresholds, min_skin_fraction: float) -> NsfwCheck:
    """Would-be gems that are the best of their group and score as gems get checked; of
    those, only the ones with at least `min_skin_fraction` skin-tone pixels need the model."""
    if not (assessment.would_be_gem and duplicate.is_best
            and assessment.gem_score >= thresholds.gem_score):
        return NsfwCheck.not_needed
    if skin_fraction < min_skin_fraction:
        return NsfwCheck.screened_safe
    return NsfwCheck.run_model
