"""The holdout report: Wilson intervals, per-class and per-slice numbers, bursts and aims."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from gemroll_dev import eval_classifier
from gemroll_dev.eval_report import NAMESPACE, holdout_report, jsonable, wilson
from gemroll_dev.samples.manifest import Category, JunkReason, QualityLabel


def test_wilson_interval() -> None:
    lo, hi = wilson(9, 10)
    assert lo == pytest.approx(0.5958, abs=1e-3) and hi == pytest.approx(0.9821, abs=1e-3)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0
    assert all(v != v for v in wilson(0, 0))  # NaN without trials
    assert NAMESPACE == eval_classifier.NAMESPACE


def _item(n: int, category: str, quality: str, slices: list[str], *, burst: str | None = None,
          best: bool = True) -> Any:
    cat, q = Category(category), QualityLabel(quality)
    gem = cat is Category.photo and q is QualityLabel.good and best
    reason = (JunkReason.screenshot if cat is Category.screenshot else JunkReason.document
              if cat is Category.document else JunkReason.blurry if q is QualityLabel.blurry
              else JunkReason.dark if q is QualityLabel.dark else None if best
              else JunkReason.duplicate)
    return SimpleNamespace(id=f"h{n:04d}", category=cat, quality=q, expected_gem=gem,
                           junk_reason=reason, burst_id=burst, is_best_shot=best,
                           slices=slices, variant=f"v{n}", file_name=f"f{n}.jpg")


def _result(item: Any, category: str, gem: bool, reasons: list[str] = (),  # type: ignore[assignment]
            group: uuid.UUID | None = None, best: bool = True) -> Any:
    return SimpleNamespace(media_id=uuid.uuid5(NAMESPACE, item.id),
                           category=SimpleNamespace(value=category), reasons=list(reasons),
                           is_gem=gem, gem_score=0.7 if gem else 0.2, duplicate_group=group,
                           is_best_in_group=best)


def test_report_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    items = [_item(1, "photo", "good", ["night"]), _item(2, "photo", "good", ["night"]),
             _item(3, "photo", "blurry", ["blur_shake", "night"]),
             _item(4, "photo", "blurry", ["blur_motion"]), _item(5, "photo", "dark", ["dark"]),
             _item(6, "screenshot", "good", ["feed_screenshot"]),
             _item(7, "document", "good", ["receipt_on_table"]),
             _item(8, "photo", "good", ["burst"], burst="b1", best=True),
             _item(9, "photo", "good", ["burst"], burst="b1", best=False)]
    group = uuid.uuid4()
    results = [_result(items[0], "photo", True), _result(items[1], "photo", False,
                                                         ["dark:no_highlights"]),
               _result(items[2], "photo", True), _result(items[3], "photo", False,
                                                         ["blurry:soft_detail"]),
               _result(items[4], "photo", False, ["dark:low_mean_luminance"]),
               _result(items[5], "photo", True), _result(items[6], "document", False),
               _result(items[7], "photo", True, group=group, best=True),
               _result(items[8], "photo", False, group=group, best=False)]
    manifest = SimpleNamespace(items=items, generator="gemroll_dev.samples.holdout", seed=0,
                               counts=lambda: {"gems": 3})
    gems = eval_classifier.final_gems(results)  # type: ignore[arg-type]
    summary = holdout_report(manifest, results, gems, 1.0)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    classes = summary["classes"]
    assert classes["gem"]["precision"]["k"] == 2 and classes["gem"]["precision"]["n"] == 4
    assert classes["gem"]["recall"]["value"] == pytest.approx(2 / 3)
    assert classes["blurry"]["recall"]["value"] == 0.5
    assert classes["dark"]["precision"]["value"] == 0.5  # one dark flag on a good photo
    assert classes["screenshot"]["recall"]["value"] == 0.0
    night = summary["slices"]["night"]
    assert night["n"] == 3 and night["gem_recall"]["value"] == 0.5
    assert {m["id"] for m in night["misses"]} == {"h0002", "h0003"}
    assert summary["bursts"]["intended_best"] == 1 and summary["bursts"]["one_pick"] == 1
    assert not summary["aims"]["all_met"]
    assert "NOT MET" in out and "h0003" in out
    text = json.dumps(jsonable(summary), default=str, allow_nan=False)  # strict JSON
    assert json.loads(text)["slices"]["dark"]["gem_recall"]["value"] is None
