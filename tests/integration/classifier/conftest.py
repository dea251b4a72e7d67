"""The classifier against the real stack. The models load once per test session."""

from __future__ import annotations

import pytest
from gemroll_classifier.models import Models, build_models
from gemroll_classifier.settings import ClassifierSettings


@pytest.fixture(scope="session")
def classifier_models() -> Models:
    """MobileNetV2 + open_nsfw on the CPU, loaded once (seeding the hub cache if needed)."""
    models = build_models(ClassifierSettings(device="cpu", threads=2))
    models.load()
    return models
