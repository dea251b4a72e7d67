"""A cached sample or holdout roll is used only while its plan and its pixel code are those of
today (`eval_classifier._stamped_roll`): a stale roll would train or evaluate on yesterday's
images without a word."""

from __future__ import annotations

from pathlib import Path

from gemroll_dev import eval_classifier
from gemroll_dev.samples.manifest import Manifest


def _maker(calls: list[Path]):  # noqa: ANN202
    def make(folder: Path) -> Manifest:
        calls.append(folder)
        manifest = Manifest(size="demo", seed=0, events=[], items=[])
        manifest.write(folder)
        return manifest
    return make


def test_a_roll_is_built_once_then_reused_until_its_plan_or_code_changes(tmp_path: Path,
                                                                         ) -> None:
    code = tmp_path / "make_pixels.py"
    code.write_text("BLUR = 1\n")
    folder, calls = tmp_path / "roll", []
    make = _maker(calls)
    eval_classifier._stamped_roll(folder, ["plan", 1], [code], make, "test roll")
    eval_classifier._stamped_roll(folder, ["plan", 1], [code], make, "test roll")
    assert len(calls) == 1
    eval_classifier._stamped_roll(folder, ["plan", 2], [code], make, "test roll")
    assert len(calls) == 2  # the plan changed
    code.write_text("BLUR = 2\n")
    eval_classifier._stamped_roll(folder, ["plan", 2], [code], make, "test roll")
    assert len(calls) == 3  # the code that makes the pixels changed
    (folder / "plan.sha256").unlink()
    eval_classifier._stamped_roll(folder, ["plan", 2], [code], make, "test roll")
    assert len(calls) == 4  # a roll without a stamp (built before stamps) is not trusted


def test_the_training_roll_is_stamped_with_the_sample_builders_code() -> None:
    code = {p.name for p in eval_classifier._sample_code().glob("*.py")}
    assert {"plan.py", "imaging.py", "camera.py", "light.py", "pages.py"} <= code
