"""Erasure in the classifier: tombstones keep a late classification from storing or
publishing anything, account erasure takes everything (outages: test_classifier_consumers)."""

from __future__ import annotations

import sys
from pathlib import Path

from gemroll_classifier.usecases.erasure import EraseMedia
from gemroll_classifier.usecases.outcomes import Classified, Erased
from gemroll_contracts import ErasureReason, MediaErased, MediaErasedData
from gemroll_testkit import photos

sys.path.insert(0, str(Path(__file__).parent))
from test_classifier_handlers import T0, USER, make, upload  # noqa: E402


def erased(media_ids, reason=ErasureReason.media_deleted, user=USER) -> MediaErased:  # noqa: ANN001
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=user, media_ids=list(media_ids), reason=reason, erased_at=T0))


async def test_a_classification_arriving_after_the_erasure_stores_and_publishes_nothing():
    classify, sink, store, _ = make({"p": photos.photo_jpeg(1)})
    late = upload("p")
    await EraseMedia(store).erase(erased([late.data.media_id]))

    out = await classify.classify([late])

    assert isinstance(out[late.event_id], Erased)
    assert store.rows == {} and sink.events == [] and sink.candidates == []
    assert late.data.media_id in store.tombstones


async def test_redelivered_classification_after_erasure_is_not_republished():
    classify, sink, store, _ = make({"p": photos.photo_jpeg(1)})
    u = upload("p")
    assert isinstance((await classify.classify([u]))[u.event_id], Classified)
    assert await EraseMedia(store).erase(erased([u.data.media_id])) == 1
    before = len(sink.events)
    out = await classify.classify([u])
    assert isinstance(out[u.event_id], Erased)
    assert store.rows == {} and len(sink.events) == before


async def test_account_erasure_deletes_every_row_of_the_user():
    objects = {"p": photos.photo_jpeg(1), "s": photos.screenshot_png()}
    classify, _, store, _ = make(objects)
    listed, unlisted = upload("p"), upload("s", 5)
    other = upload("p", 9)
    other = other.model_copy(update={"data": other.data.model_copy(
        update={"user_key": "ef" * 16})})
    await classify.classify([listed, unlisted, other])
    assert len(store.rows) == 3

    removed = await EraseMedia(store).erase(erased([listed.data.media_id],
                                                 reason=ErasureReason.account_erasure))

    assert removed == 2
    assert set(store.rows) == {other.data.media_id}
    assert {listed.data.media_id, unlisted.data.media_id} <= store.tombstones
