"""The evaluation roll builds byte for byte the same twice (fetching its real material from
Debian and PyPI into .cache when missing), and shares no source with the training roll."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
from gemroll_dev.samples.holdout.sources import check_disjoint

pytestmark = pytest.mark.slow


def test_the_evaluation_sources_are_disjoint_from_training() -> None:
    assert check_disjoint() == []


@pytest.mark.timeout(900)  # the first run fetches the material (~230 MB)
def test_small_build_is_byte_identical(tmp_path: Path) -> None:
    from gemroll_dev.samples.holdout import build_holdout_roll

    first = build_holdout_roll(tmp_path / "a", 0, workers=1, only=4)
    second = build_holdout_roll(tmp_path / "b", 0, workers=1, only=4)
    assert [i.sha256 for i in first.items] == [i.sha256 for i in second.items]
    for item in first.items:
        data = (tmp_path / "a" / item.file_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item.sha256
        assert item.slices and item.source.package
    assert math.isfinite(first.items[0].size_bytes)
