"""A reproducible, labeled sample camera roll made from real material available offline.

    build_camera_roll(out_dir, size="demo", seed=0) -> Manifest   # files + manifest.json
    build_bench_jpegs(out_dir, n) -> list[Path]                   # 12-megapixel phone JPEGs

CLI: `python -m gemroll_dev.samples build OUT_DIR [--size demo|eval|bench] [--seed N]`.
"""

from __future__ import annotations

from .bench import build_bench_jpegs
from .build import build_camera_roll, ensure_requirements
from .manifest import (
    MANIFEST_NAME,
    Category,
    ImageFormat,
    JunkReason,
    Manifest,
    QualityLabel,
    SampleItem,
)
from .plan import plan_camera_roll
from .system import SamplesError

__all__ = [
    "MANIFEST_NAME",
    "Category",
    "ImageFormat",
    "JunkReason",
    "Manifest",
    "QualityLabel",
    "SampleItem",
    "SamplesError",
    "build_bench_jpegs",
    "build_camera_roll",
    "ensure_requirements",
    "plan_camera_roll",
]
