"""`make train-classifier --check`: byte for byte on the roll the shipped weights were fitted
on; where the roll's own files changed (a package the builder reads, such as Chromium), the
refit must agree within tolerance, and a refit that departs says how."""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest
from gemroll_dev import train_classifier as tc
from gemroll_dev.samples import chromium

FITTED_ON, OTHER = "ab" * 32, "cd" * 32


def _samples() -> list[tc.Sample]:
    rng = random.Random(7)
    names = tc.HEAD_FEATURES["dark"][0]
    out = []
    for i in range(80):
        dark = i % 4 == 0
        named = {n: rng.uniform(0, 1) for n in names}
        named["brightness"] = rng.uniform(0.01, 0.08) if dark else rng.uniform(0.2, 0.8)
        out.append(tc.Sample(f"p{i}", named, np.zeros(4), "photo",
                             "dark" if dark else "good", "good", source=f"s{i % 10}"))
    return out


def _doc(samples: list[tc.Sample], digest: str) -> dict:
    return {"version": tc.VERSION, "trained_on": {"files_sha256": digest},
            "heads": {"dark": tc.train_head("dark", samples)}}


@pytest.fixture
def renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium, "chromium_version", lambda: "Chromium 999.0")


def test_the_same_file_passes() -> None:
    samples = _samples()
    text = json.dumps(_doc(samples, FITTED_ON))
    assert tc.check(text, text, FITTED_ON, samples) == (True, "identical to the shipped weights")


def test_any_difference_on_the_same_roll_fails() -> None:
    samples = _samples()
    shipped, refit = _doc(samples, FITTED_ON), _doc(samples, FITTED_ON)
    refit["heads"]["dark"]["bias"] += 1e-6
    passes, why = tc.check(json.dumps(shipped), json.dumps(refit), FITTED_ON, samples)
    assert not passes and why.startswith("same roll files")


def test_a_changed_roll_with_the_same_fit_passes_and_names_both_digests(renderer: None) -> None:
    samples = _samples()
    shipped, refit = _doc(samples, FITTED_ON), _doc(samples, OTHER)
    passes, why = tc.check(json.dumps(shipped), json.dumps(refit), OTHER, samples)
    assert passes, why
    assert "within tolerance" in why and "Chromium 999.0" in why
    assert FITTED_ON[:12] in why and OTHER[:12] in why


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda h: h.update(threshold=round(h["threshold"] + 0.05, 2)), "threshold"),
    (lambda h: h.update(weights=[w + 0.02 for w in h["weights"]]), "a weight moved"),
    (lambda h: h.update(bias=h["bias"] + 40.0), "decisions agree"),
    (lambda h: h.update(features=h["features"][:-1]), "not the same head"),
])
def test_a_changed_roll_whose_refit_departs_fails_and_says_how(renderer: None, change,  # noqa: ANN001
                                                               complaint: str) -> None:
    samples = _samples()
    shipped = _doc(samples, FITTED_ON)
    refit = copy.deepcopy(shipped)
    refit["trained_on"]["files_sha256"] = OTHER
    change(refit["heads"]["dark"])
    passes, why = tc.check(json.dumps(shipped), json.dumps(refit), OTHER, samples)
    assert not passes
    assert complaint in why and "make train-classifier" in why


@pytest.mark.parametrize("text", ["", "not json", json.dumps({"heads": {}})])
def test_a_missing_or_unreadable_shipped_file_fails(text: str) -> None:
    samples = _samples()
    refit = json.dumps(_doc(samples, OTHER))
    assert tc.check(text, refit, OTHER, samples) == (
        False, "the shipped file is missing or unreadable")
