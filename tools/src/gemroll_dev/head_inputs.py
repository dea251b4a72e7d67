"""What the training needs from the classifier: its models loaded, and a photo's faces
summarised as the service summarises them."""

from __future__ import annotations

from typing import Any


def load_models(settings: Any) -> Any:
    from gemroll_classifier.models import build_models

    models = build_models(settings, learned_heads=False)
    models.load()
    return models


def face_summary(models: Any, prepared: Any) -> Any:
    from gemroll_classifier.domain.faces import NO_FACES, keep_faces
    from gemroll_classifier.domain.judge import summarize_faces

    if models.faces is None:
        return NO_FACES
    prepared.faces = keep_faces(models.faces.detect(prepared.rgb), limit=None)
    return summarize_faces(prepared)
