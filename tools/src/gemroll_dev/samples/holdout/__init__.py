"""The holdout evaluation roll: real material and processing that training never saw.

    plan_holdout(seed=0) -> list[PlannedItem]                 # pure, deterministic
    build_holdout_roll(out_dir, seed=0) -> Manifest           # files + manifest.json

See docs/evaluation.md for the sources, the slices and how the labels were decided.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .plan import plan_holdout

if TYPE_CHECKING:
    from ..manifest import Manifest

__all__ = ["build_holdout_roll", "plan_holdout"]


def build_holdout_roll(out_dir: Path, seed: int = 0, **options: Any) -> Manifest:
    """See `build.build_holdout_roll` (imported on use: it pulls in scipy and the encoders)."""
    from .build import build_holdout_roll as build

    return build(out_dir, seed, **options)
