"""`make train-classifier --check` says why a retrained head differs: the roll's files changed
(a package the builder reads, such as Chromium) or only the features or the fit did."""

from __future__ import annotations

import json

import pytest
from gemroll_dev import train_classifier
from gemroll_dev.samples import chromium


def _shipped(digest: str) -> str:
    return json.dumps({"version": "head-2", "trained_on": {"files_sha256": digest}})


def test_same_roll_files_blame_the_features_or_the_fit() -> None:
    why = train_classifier._why_different(_shipped("ab" * 32), "ab" * 32)
    assert why.startswith("same roll files")


def test_other_roll_files_name_both_digests_and_the_renderer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium, "chromium_version", lambda: "Chromium 999.0")
    why = train_classifier._why_different(_shipped("cd" * 32), "ef" * 32)
    assert "cdcdcdcdcdcd" in why and "efefefefefef" in why
    assert "Chromium 999.0" in why and "make train-classifier" in why


@pytest.mark.parametrize("text", ["", "not json", json.dumps({"heads": {}})])
def test_a_missing_or_unreadable_shipped_file_says_so(text: str) -> None:
    assert "missing or unreadable" in train_classifier._why_different(text, "ab" * 32)
