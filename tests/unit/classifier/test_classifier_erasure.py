"""Erasure in the classifier: outages are waited out (never dead-lettered), tombstones keep
a late classification from storing or publishing anything, account erasure takes everything."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from gemroll_classifier import synthetic as syn
from gemroll_classifier.consumers import ErasureRunner
from gemroll_classifier.handlers import Classified, Erased
from gemroll_contracts import ErasureReason, MediaErased, MediaErasedData

sys.path.insert(0, str(Path(__file__).parent))
from test_classifier_handlers import T0, USER, make, upload  # noqa: E402


def erased(media_ids, reason=ErasureReason.media_deleted, user=USER) -> MediaErased:  # noqa: ANN001
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=user, media_ids=list(media_ids), reason=reason, erased_at=T0))


class FlakyClassify:
    """`erase` fails with `error` the first `failures` times, then succeeds."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def erase(self, event: MediaErased) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return 1


@pytest.mark.parametrize("error", [
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "Connection refused"),
    asyncpg.DeadlockDetectedError("deadlock"),
], ids=lambda e: type(e).__name__)
async def test_erasure_waits_out_a_database_outage(error):
    classify = FlakyClassify(failures=30, error=error)  # ~6 s of outage at 0.2 s retries
    runner = ErasureRunner(classify, base_backoff_s=0.0001, max_backoff_s=0.0001)
    assert await runner.run(erased([uuid.uuid4()])) == 1
    assert classify.calls == 31 and runner.retries == 30


async def test_a_bug_in_erasure_is_not_retried_forever():
    classify = FlakyClassify(failures=1, error=ValueError("bug"))
    runner = ErasureRunner(classify, base_backoff_s=0.0001)
    with pytest.raises(ValueError):
        await runner.run(erased([uuid.uuid4()]))
    assert classify.calls == 1  # the dead-letter middleware takes it from here


async def test_a_classification_arriving_after_the_erasure_stores_and_publishes_nothing():
    classify, sink, store, _ = make({"p": syn.photo_jpeg(1)})
    late = upload("p")
    await classify.erase(erased([late.data.media_id]))

    out = await classify.classify([late])

    assert isinstance(out[late.event_id], Erased)
    assert store.rows == {} and sink.events == [] and sink.candidates == []
    assert late.data.media_id in store.tombstones


async def test_redelivered_classification_after_erasure_is_not_republished():
    classify, sink, store, _ = make({"p": syn.photo_jpeg(1)})
    u = upload("p")
    assert isinstance((await classify.classify([u]))[u.event_id], Classified)
    assert await classify.erase(erased([u.data.media_id])) == 1
    before = len(sink.events)
    out = await classify.classify([u])
    assert isinstance(out[u.event_id], Erased)
    assert store.rows == {} and len(sink.events) == before


async def test_account_erasure_deletes_every_row_of_the_user():
    objects = {"p": syn.photo_jpeg(1), "s": syn.screenshot_png()}
    classify, _, store, _ = make(objects)
    listed, unlisted = upload("p"), upload("s", 5)
    other = upload("p", 9)
    other = other.model_copy(update={"data": other.data.model_copy(
        update={"user_key": "ef" * 16})})
    await classify.classify([listed, unlisted, other])
    assert len(store.rows) == 3

    removed = await classify.erase(erased([listed.data.media_id],
                                          reason=ErasureReason.account_erasure))

    assert removed == 2
    assert set(store.rows) == {other.data.media_id}
    assert {listed.data.media_id, unlisted.data.media_id} <= store.tombstones
