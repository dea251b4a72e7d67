"""Malformed Kafka records for every topic a gemroll service consumes.

`valid_event(topic, ...)` builds a correct contract event for the same topic, sent after the
bad ones to prove the consumer did not stall.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gemroll_contracts import (
    CONSENT,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    TRAINING_CANDIDATES,
    USER_ACTIONS,
    ActionKind,
    CandidateSource,
    Category,
    ConsentChanged,
    ConsentChangedData,
    ErasureReason,
    Event,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    MediaUploadedData,
    ModelInfo,
    Quality,
    Topic,
    TrainingCandidate,
    TrainingCandidateData,
    UserAction,
    UserActionData,
)

CONSUMED: dict[Topic, tuple[str, ...]] = {
    MEDIA_UPLOADED: ("classifier",),
    MEDIA_CLASSIFIED: ("ingest", "suggester"),
    USER_ACTIONS: ("suggester", "policy"),
    CONSENT: ("ingest", "suggester", "policy"),
    TRAINING_CANDIDATES: ("policy",),
    MEDIA_ERASED: ("ingest", "classifier", "suggester"),
}
"""Every consumed topic and the services that consume it."""


@dataclass(frozen=True)
class Media:
    """What a valid event refers to: a user key and a stored object."""

    user_key: str
    media_id: uuid.UUID
    bucket: str
    object_key: str


def valid_event(topic: Topic, media: Media) -> Event:
    now = datetime.now(UTC)
    common = {"user_key": media.user_key}
    if topic is MEDIA_UPLOADED:
        return MediaUploaded(producer="ingest", data=MediaUploadedData(
            media_id=media.media_id, bucket=media.bucket, object_key=media.object_key,
            content_type="image/jpeg", size_bytes=1000, sha256="0" * 64, width=64, height=48,
            **common))
    if topic is MEDIA_CLASSIFIED:
        return MediaClassified(producer="classifier", data=MediaClassifiedData(
            media_id=media.media_id, bucket=media.bucket, object_key=media.object_key, width=64,
            height=48, category=Category.photo,
            quality=Quality(sharpness=0.5, exposure=0.5, noise=0.1, brightness=0.5),
            gem_score=0.2, is_gem=False, model=ModelInfo(name="hostile", version="1"), **common))
    if topic is USER_ACTIONS:
        return UserAction(producer="suggester", data=UserActionData(
            media_id=media.media_id, action=ActionKind.saved, acted_at=now, **common))
    if topic is CONSENT:
        return ConsentChanged(producer="policy", data=ConsentChangedData(
            camera_roll=False, training_opt_out=True, ledger_seq=1, changed_at=now, **common))
    if topic is TRAINING_CANDIDATES:
        return TrainingCandidate(producer="classifier", data=TrainingCandidateData(
            candidate_id=uuid.uuid5(media.media_id, "hostile"), media_id=media.media_id,
            source=CandidateSource.classifier, bucket=media.bucket, object_key=media.object_key,
            proposed_at=now, **common))
    if topic is MEDIA_ERASED:
        return MediaErased(producer="policy", data=MediaErasedData(
            media_ids=[media.media_id], reason=ErasureReason.media_deleted, erased_at=now,
            **common))
    raise ValueError(f"no valid event for {topic.name}")


@dataclass(frozen=True)
class BadRecord:
    name: str
    value: bytes | None
    """None: a tombstone (a record without value)."""
    must_dead_letter: bool = True
    """False for a tombstone on a compacted topic: skipping it is as right as dead-lettering."""


def _mutated(event: Event, change: Callable[[dict], None]) -> bytes:
    body = json.loads(event.to_json())
    change(body)
    return json.dumps(body).encode()


def _other_event(topic: Topic, media: Media) -> Event:
    """A valid event of another topic (the wrong event type for `topic`)."""
    other = USER_ACTIONS if topic is not USER_ACTIONS else CONSENT
    return valid_event(other, media)


def bad_records(topic: Topic, media: Media) -> list[BadRecord]:
    """Malformed records for `topic`, each a different way of being wrong."""
    good = valid_event(topic, media)

    def set_path(path: str, value: object) -> Callable[[dict], None]:
        def change(body: dict) -> None:
            *parents, last = path.split(".")
            node = body
            for p in parents:
                node = node[p]
            node[last] = value
        return change

    first_data_field = next(iter(json.loads(good.to_json())["data"]))
    records = [
        BadRecord("not_json", b"\xff\xfe\x00 this is not json {"),
        BadRecord("empty_value", b""),
        BadRecord("json_array", b"[1, 2, 3]"),
        BadRecord("json_null", b"null"),
        BadRecord("json_number", b"42"),
        BadRecord("invalid_utf8_in_string", b'{"event_type": "\xc3\x28\xa0\xa1"}'),
        BadRecord("nan_literal", good.to_json().replace(b'"schema_version":1',
                                                        b'"schema_version":NaN')),
        BadRecord("deep_nesting", b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        BadRecord("wrong_event_type", _other_event(topic, media).to_json()),
        BadRecord("unknown_event_type", _mutated(good, set_path("event_type", "media.exploded"))),
        BadRecord("schema_version_2", _mutated(good, set_path("schema_version", 2))),
        BadRecord("wrong_type_in_data", _mutated(good, set_path(f"data.{first_data_field}",
                                                                {"$ne": None}))),
        BadRecord("wrong_type_event_id", _mutated(good, set_path("event_id", 12345))),
        BadRecord("missing_data", _mutated(good, lambda b: b.pop("data"))),
        BadRecord("naive_datetime", _mutated(good, set_path("occurred_at",
                                                            "2024-05-01T10:00:00"))),
        BadRecord("huge_string_value", _mutated(good, set_path("producer", "p" * 600_000))),
        BadRecord("huge_number", _mutated(good, set_path("schema_version", 10**400))),
        BadRecord("user_key_injection", _mutated(good, set_path(
            "data.user_key", "'; DROP TABLE media; --"))),
    ]
    if topic is CONSENT:
        records.append(BadRecord("tombstone", None, must_dead_letter=False))
    return records


def later_version_records(topic: Topic, media: Media) -> list[bytes]:
    """Valid events for `topic` as a later minor version may write them: unknown fields at the
    top level and in the data. Consumers must process them (readers ignore unknown fields),
    never dead-letter them."""
    def extended(where: str) -> bytes:
        body = json.loads(valid_event(topic, media).to_json())
        body["event_id"] = str(uuid.uuid4())
        (body if where == "top" else body["data"])["added_later"] = {"x": [1, "y"]}
        return json.dumps(body).encode()

    return [extended("top"), extended("data")]
