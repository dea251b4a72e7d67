"""Property-based contract tests: valid events survive JSON round trips unchanged; invalid
ones are refused with a readable error."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from gemroll_contracts import (
    ALL_EVENTS,
    CONTENT_TYPES,
    MEDIA_KINDS,
    Event,
    MediaClassified,
    MediaClassifiedData,
    MediaErasedData,
    MediaUploaded,
    MediaUploadedData,
    Moment,
    VideoFacts,
    VideoVerdict,
    parse_event,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polyfactory import Use
from polyfactory.factories.pydantic_factory import ModelFactory
from pydantic import ValidationError

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class _ErasureData(ModelFactory[MediaErasedData]):
    """Keeps erasure batches small: the contract allows 10,000 ids, which only slows tests."""

    __set_as_default_factory_for_type__ = True
    media_ids = Use(lambda: [uuid.UUID(int=_ErasureData.__random__.getrandbits(128), version=4)
                             for _ in range(_ErasureData.__random__.randint(1, 5))])



class _ClassifiedData(ModelFactory[MediaClassifiedData]):
    """Keeps embeddings short: the contract allows 2,048 floats, which only slows tests."""

    __set_as_default_factory_for_type__ = True
    embedding = Use(lambda: None if _ClassifiedData.__random__.random() < 0.2 else [
        _ClassifiedData.__random__.uniform(-1, 1)
        for _ in range(_ClassifiedData.__random__.randint(0, 8))])
    media_kind = Use(lambda: _ClassifiedData.__random__.choice(MEDIA_KINDS))


class _UploadedData(ModelFactory[MediaUploadedData]):
    """Content types and media kinds this version writes (the patterns admit what later
    versions may)."""

    __set_as_default_factory_for_type__ = True
    content_type = Use(lambda: _UploadedData.__random__.choice(CONTENT_TYPES))
    media_kind = Use(lambda: _UploadedData.__random__.choice(MEDIA_KINDS))


def valid_events(event: type[Event]) -> st.SearchStrategy[Event]:
    """Valid instances honouring every field constraint (polyfactory), seeded by hypothesis."""
    factory = ModelFactory.create_factory(event)

    def build(seed: int) -> Event:
        factory.seed_random(seed)
        return factory.build()

    return st.integers(min_value=0, max_value=2**32).map(build)


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.EVENT_TYPE)
def test_valid_events_survive_serialize_and_parse(event: type[Event]) -> None:
    @SETTINGS
    @given(valid_events(event))
    def check(instance: Event) -> None:
        raw = instance.to_json()
        assert event.from_json(raw) == instance
        assert parse_event(raw) == instance
        assert type(parse_event(raw)) is event

    check()


def _sample(event: type[Event]) -> dict:
    factory = ModelFactory.create_factory(event)
    factory.seed_random(7)
    return json.loads(factory.build().to_json())


def _with_unknown_fields_everywhere(node: object) -> None:
    """Add a field of a later version to every object of the document, however nested."""
    if isinstance(node, dict):
        for value in list(node.values()):
            _with_unknown_fields_everywhere(value)
        node["added_later"] = {"gps_added_later": [48.8584, 2.2945]}
    elif isinstance(node, list):
        for value in node:
            _with_unknown_fields_everywhere(value)


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.EVENT_TYPE)
def test_readers_ignore_fields_of_a_later_version_and_never_pass_them_on(
        event: type[Event]) -> None:
    """A compatible change (a new optional field, at any depth) is read by an older consumer,
    and what it writes back does not carry the field it did not know."""
    doc = _sample(event)
    expected = event.model_validate_json(json.dumps(doc))
    _with_unknown_fields_everywhere(doc)
    raw = json.dumps(doc)
    assert raw.count("added_later") >= 2
    for read in (event.from_json(raw), parse_event(raw)):
        assert read == expected
        written = read.to_json()
        assert written == expected.to_json()
        assert b"added_later" not in written


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.EVENT_TYPE)
def test_building_an_event_with_an_unknown_field_is_a_bug_caught_at_once(
        event: type[Event]) -> None:
    """Producers stay strict: only reading is tolerant."""
    doc = _sample(event)
    doc["data"]["surprise"] = 1
    with pytest.raises(ValidationError) as info:
        event.model_validate(doc)
    assert "Extra inputs are not permitted" in str(info.value)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        event(**{**doc, "surprise": 1})


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.EVENT_TYPE)
def test_a_breaking_change_still_needs_a_new_schema_version(event: type[Event]) -> None:
    doc = _sample(event)
    doc["schema_version"] = event.SCHEMA_VERSION + 1
    with pytest.raises(ValidationError):
        parse_event(json.dumps(doc))
    with pytest.raises(ValidationError):
        event.from_json(json.dumps(doc))


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.EVENT_TYPE)
def test_naive_datetimes_are_refused(event: type[Event]) -> None:
    doc = _sample(event)
    doc["occurred_at"] = datetime(2026, 1, 1, 12, 0).isoformat()
    with pytest.raises(ValidationError, match="timezone"):
        event.model_validate_json(json.dumps(doc))


@given(st.text(min_size=201, max_size=400))
@SETTINGS
def test_unbounded_strings_are_refused(title: str) -> None:
    from gemroll_contracts import SuggestionCreated

    doc = _sample(SuggestionCreated)
    doc["data"]["title"] = title
    with pytest.raises(ValidationError, match="at most 200 characters"):
        SuggestionCreated.model_validate_json(json.dumps(doc))


def test_unbounded_lists_are_refused() -> None:
    from gemroll_contracts import SuggestionCreated

    doc = _sample(SuggestionCreated)
    doc["data"]["media_ids"] = [doc["data"]["media_ids"][0]] * 10
    with pytest.raises(ValidationError, match="at most 9 items"):
        SuggestionCreated.model_validate_json(json.dumps(doc))


def test_timestamps_are_normalised_to_utc() -> None:
    from gemroll_contracts import MediaErased

    doc = _sample(MediaErased)
    doc["occurred_at"] = "2026-03-01T14:00:00+02:00"
    assert MediaErased.model_validate_json(json.dumps(doc)).occurred_at.isoformat() == (
        "2026-03-01T12:00:00+00:00"
    )


def test_unknown_event_type_is_refused_readably() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        parse_event(b'{"event_type": "media.teleported"}')


def test_a_content_type_of_a_later_version_is_read_but_never_written() -> None:
    """1.4.0 added AVIF; a later version may add another. Readers take it (and treat the media
    as one they cannot decode), while this version refuses to write one it does not know."""
    document = _sample(MediaUploaded)
    document["data"]["content_type"] = "image/jxl"
    assert parse_event(json.dumps(document)).data.content_type == "image/jxl"
    assert MediaUploaded.from_json(json.dumps(document)).data.content_type == "image/jxl"
    with pytest.raises(ValidationError, match="not one of"):
        MediaUploadedData(**{**document["data"], "content_type": "image/jxl"})
    for not_an_image in ("text/html", "image/", "IMAGE/JPEG", "image/jpeg; x=1"):
        document["data"]["content_type"] = not_an_image
        with pytest.raises(ValidationError):
            parse_event(json.dumps(document))


def test_a_record_of_an_older_writer_is_a_photo() -> None:
    """1.5.0 added videos: a record without `media_kind` (every writer before it) is a photo."""
    for event in (MediaUploaded, MediaClassified):
        document = _sample(event)
        document["data"].pop("media_kind", None)
        document["data"].pop("video", None)
        parsed = parse_event(json.dumps(document))
        assert parsed.data.media_kind == "photo" and parsed.data.video is None


def test_a_video_is_written_and_read_with_its_facts() -> None:
    document = _sample(MediaUploaded)
    document["data"].update(
        content_type="video/quicktime", media_kind="video",
        video={"duration_s": 12.5, "fps": 29.97, "video_codec": "hevc", "has_audio": True,
               "rotation": 90, "poster_key": "users/u/posters/x.jpg"})
    uploaded = MediaUploadedData(**{**document["data"], "video": VideoFacts(
        **document["data"]["video"])})
    assert uploaded.video is not None and uploaded.video.video_codec == "hevc"
    assert parse_event(json.dumps(document)).data.video.duration_s == 12.5
    verdict = VideoVerdict(duration_s=12.5, frames_sampled=8, poster_time_s=4.0,
                           best_moment=Moment(start_s=3.0, end_s=7.5))
    assert VideoVerdict.model_validate_json(verdict.model_dump_json()) == verdict


def test_a_media_kind_of_a_later_version_is_read_but_never_written() -> None:
    document = _sample(MediaUploaded)
    document["data"]["media_kind"] = "hologram"
    assert parse_event(json.dumps(document)).data.media_kind == "hologram"
    with pytest.raises(ValidationError, match="not one of"):
        MediaUploadedData(**{**document["data"], "media_kind": "hologram"})
    for not_a_kind in ("", "Photo", "photo video", "x" * 30):
        document["data"]["media_kind"] = not_a_kind
        with pytest.raises(ValidationError):
            parse_event(json.dumps(document))
