"""Faces in MediaClassified (contracts 1.6.0): boxes and a count, never an identity."""

from __future__ import annotations

import json
import re
import uuid

import gemroll_contracts
import pytest
from gemroll_contracts import (
    ALL_EVENTS,
    CONTRACTS_VERSION,
    MAX_FACE_BOXES,
    FaceBox,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    parse_event,
)
from pydantic import BaseModel, ValidationError

BIOMETRIC = re.compile(r"embed|descriptor|vector|encoding|identity|person|recogni|landmark"
                       r"|feature|signature|template|name")


def _classified(**data: object) -> MediaClassified:
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=uuid.uuid4(), user_key="ab" * 16, bucket="gemroll-media",
        object_key="users/u/a.jpg", width=4000, height=3000, category="photo", gem_score=0.7,
        is_gem=True, model=ModelInfo(name="m", version="1"), **data))


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The model and every model nested in its fields."""
    found, todo = [], [model]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        for field in current.model_fields.values():
            for arg in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", repr(field.annotation)):
                name = arg.rsplit(".", 1)[-1]
                nested = getattr(gemroll_contracts, name, None)
                if isinstance(nested, type) and issubclass(nested, BaseModel):
                    todo.append(nested)
    return found


def test_version_is_1_6():
    assert CONTRACTS_VERSION == "1.6.0"


def test_a_face_box_is_a_box_and_a_probability_only():
    assert set(FaceBox.model_fields) == {"left", "top", "right", "bottom", "probability"}
    for name in FaceBox.model_fields:
        assert FaceBox.model_fields[name].annotation is float


def test_no_event_carries_an_embedding_like_face_field():
    """Biometric data never enters a contract: the only face fields are the count and the
    boxes, and nothing about a face could identify its person."""
    face_fields = []
    for event in ALL_EVENTS:
        for model in _models(event):
            for name in model.model_fields:
                if "face" in name.lower():
                    face_fields.append((model.__name__, name))
    assert sorted(face_fields) == [("MediaClassifiedData", "face_count"),
                                   ("MediaClassifiedData", "faces")]
    for name in FaceBox.model_fields:
        assert not BIOMETRIC.search(name)
    # the image embedding is the whole photo's (MobileNetV2), bounded, and nowhere per face
    assert "embedding" not in FaceBox.model_fields


def test_faces_round_trip_and_are_bounded():
    boxes = [FaceBox(left=0.1, top=0.2, right=0.4, bottom=0.6, probability=0.999)]
    event = _classified(face_count=1, faces=boxes)
    parsed = parse_event(event.to_json())
    assert parsed.data.face_count == 1 and parsed.data.faces == boxes
    with pytest.raises(ValidationError):
        _classified(faces=boxes * (MAX_FACE_BOXES + 1))
    with pytest.raises(ValidationError):
        FaceBox(left=0.1, top=0.2, right=1.4, bottom=0.6, probability=0.9)
    with pytest.raises(ValidationError):  # nothing else may ride along
        FaceBox(left=0.1, top=0.2, right=0.4, bottom=0.6, probability=0.9,
                embedding=[0.1, 0.2])


def test_a_record_of_an_older_writer_has_no_faces_checked():
    document = json.loads(_classified().to_json())
    document["data"].pop("faces")
    parsed = parse_event(json.dumps(document))
    assert parsed.data.face_count is None and parsed.data.faces is None


def test_an_older_reader_ignores_the_boxes():
    """Readers ignore fields they do not know: a 1.5 reader sees only face_count."""
    document = json.loads(_classified(face_count=0, faces=[]).to_json())
    document["data"]["faces_added_later"] = [{"left": 0.0}]
    assert parse_event(json.dumps(document)).data.face_count == 0
