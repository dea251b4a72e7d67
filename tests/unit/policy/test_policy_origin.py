"""Forged or buggy candidates and actions are refused before the gate trusts them."""

from __future__ import annotations

import uuid

import pytest
from gemroll_contracts import ActionKind
from gemroll_policy.domain.origin import ForgedEvent, check_origin
from gemroll_testkit.events import action, candidate, user_key

BUCKET = "gemroll-media"
ALICE, BOB = user_key("origin-a"), user_key("origin-b")


def test_own_originals_and_renditions_are_trusted():
    media, derived = uuid.uuid4(), uuid.uuid4()
    check_origin(candidate(ALICE, media), BUCKET)
    check_origin(candidate(ALICE, media, source="suggester", derived_media_id=derived), BUCKET)
    check_origin(action(ALICE, media, ActionKind.shared), BUCKET)
    check_origin(action(ALICE, media, ActionKind.media_deleted, producer="ingest"), BUCKET)


@pytest.mark.parametrize("forge", [
    "other users object", "other media of the same user", "another bucket",
    "rendition of another user", "rendition key outside derived", "wrong producer",
    "rendition without derived id",
])
def test_a_candidate_naming_an_object_it_does_not_own_is_refused(forge):
    media, bobs = uuid.uuid4(), uuid.uuid4()
    forged = {
        "other users object": candidate(ALICE, media, object_key=f"users/{BOB}/media/{bobs}"),
        "other media of the same user": candidate(
            ALICE, media, object_key=f"users/{ALICE}/media/{uuid.uuid4()}"),
        "another bucket": candidate(ALICE, media, bucket="someone-elses"),
        "rendition of another user": candidate(
            ALICE, media, source="suggester", derived_media_id=bobs,
            object_key=f"users/{BOB}/derived/{bobs}.jpg"),
        "rendition key outside derived": candidate(
            ALICE, media, source="suggester", derived_media_id=bobs,
            object_key=f"users/{ALICE}/derived/{bobs}/../../{BOB}/media/x"),
        "wrong producer": candidate(ALICE, media).model_copy(update={"producer": "suggester"}),
        "rendition without derived id": candidate(
            ALICE, media, source="suggester", object_key=f"users/{ALICE}/derived/{bobs}.jpg"),
    }[forge]
    with pytest.raises(ForgedEvent):
        check_origin(forged, BUCKET)


@pytest.mark.parametrize(("kind", "producer"), [
    (ActionKind.shared, "ingest"), (ActionKind.edited_with_ai, "classifier"),
    (ActionKind.media_deleted, "suggester"), (ActionKind.shared, "policy"),
])
def test_each_action_kind_is_accepted_only_from_its_producer(kind, producer):
    with pytest.raises(ForgedEvent):
        check_origin(action(ALICE, uuid.uuid4(), kind, producer=producer), BUCKET)
