"""The classify-batch use case with in-memory fakes: events out, results stored, redelivery,
erasure."""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gemroll_classifier.adapters.preparers import CpuPreparer
from gemroll_classifier.domain.candidates import candidate_id
from gemroll_classifier.usecases.classify_batch import ClassifyBatch, Options
from gemroll_classifier.usecases.erasure import EraseMedia
from gemroll_classifier.usecases.outcomes import Classified, Failure
from gemroll_common.errors import ObjectMissing
from gemroll_common.retry import Backoff
from gemroll_contracts import (
    CandidateSource,
    ErasureReason,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    MediaUploadedData,
)
from gemroll_testkit import photos

sys.path.insert(0, str(Path(__file__).parent))
from classifier_fakes import FakeModel, FakeNsfw, FakeReader, FakeSink, FakeStore  # noqa: E402

USER = "ab" * 16
T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
POOL = ThreadPoolExecutor(2)


def upload(key: str, seconds: int = 0, **extra) -> MediaUploaded:
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=USER, bucket="gemroll-media", object_key=key,
        content_type="image/jpeg", size_bytes=100, sha256="0" * 64, width=10, height=10,
        captured_at=T0 + timedelta(seconds=seconds), **extra))


def make(objects: dict[str, bytes], nsfw: FakeNsfw | None = None, **opts):
    sink, store, model = FakeSink(), FakeStore(), FakeModel()
    classify = ClassifyBatch(
        reader=FakeReader(objects), preparer=CpuPreparer(POOL, analysis_long_side=320,
                                                         max_pixels=10**8),
        model=model, nsfw=nsfw or FakeNsfw(), store=store, sink=sink,
        model_pool=ThreadPoolExecutor(1),
        options=Options(fetch_attempts=3, fetch_backoff=Backoff(0.001, 0.001), **opts))
    return classify, sink, store, model


async def test_each_media_gets_one_classified_event_and_a_candidate():
    objects = {"p": photos.photo_jpeg(1), "s": photos.screenshot_png()}
    classify, sink, store, model = make(objects)
    ups = [upload("p", 0, coarse_location="u0yj"), upload("s", 5)]
    out = await classify.classify(ups)
    assert all(isinstance(o, Classified) for o in out.values())
    assert len(sink.events) == 2 and len(sink.candidates) == 2 and model.calls == 1
    by_key = {e.data.object_key: e.data for e in sink.events}
    assert by_key["s"].category == "screenshot"
    assert by_key["p"].coarse_location == "u0yj" and by_key["p"].captured_at == T0
    assert by_key["p"].embedding and len(by_key["p"].embedding) == 8 * 8 * 3
    assert set(store.rows) == {u.data.media_id for u in ups}
    cand = {c.data.media_id: c.data for c in sink.candidates}
    for u in ups:
        assert cand[u.data.media_id].candidate_id == candidate_id(u.data.media_id)
        assert cand[u.data.media_id].source is CandidateSource.classifier
    assert all(e.trace_id in {u.trace_id for u in ups} for e in sink.events)


async def test_unreadable_file_is_category_other_and_still_a_candidate():
    classify, sink, store, _ = make({"bad": photos.broken_jpeg()})
    u = upload("bad")
    out = await classify.classify([u])
    event = out[u.event_id].event
    assert event.data.category == "other" and event.data.quality is None
    assert event.data.reasons == ["unreadable:unknown_format"] and not event.data.is_gem
    assert [c.data.media_id for c in sink.candidates] == [u.data.media_id]
    assert u.data.media_id in store.rows


async def test_missing_object_is_retried_then_reported_failed():
    classify, sink, store, _ = make({"p": photos.photo_jpeg(1)})
    gone, ok = upload("gone"), upload("p")
    out = await classify.classify([gone, ok])
    assert isinstance(out[gone.event_id], Failure)
    assert isinstance(out[gone.event_id].error, ObjectMissing)
    assert classify.reader.reads.count("gone") == 3
    assert isinstance(out[ok.event_id], Classified)
    assert [e.data.object_key for e in sink.events] == ["p"]


async def test_redelivered_batch_republishes_the_stored_events():
    classify, sink, store, model = make({"p": photos.photo_jpeg(1)})
    u = upload("p")
    await classify.classify([u])
    await classify.classify([u])
    assert model.calls == 1
    assert len(sink.events) == 2 and sink.events[0].event_id == sink.events[1].event_id
    assert sink.candidates[0].event_id == sink.candidates[1].event_id


async def test_burst_in_one_batch_keeps_one_best_shot():
    base = photos.scene(3)
    objects = {"b1": photos.jpeg(photos.blurred(base, 1.5), exif=photos.camera_exif()),
               "b2": photos.jpeg(base, exif=photos.camera_exif()),
               "b3": photos.jpeg(photos.blurred(base, 3), exif=photos.camera_exif())}
    classify, sink, _, _ = make(objects)
    await classify.classify([upload(k, i) for i, k in enumerate(objects)])
    data = {e.data.object_key: e.data for e in sink.events}
    assert len({d.duplicate_group for d in data.values()}) == 1
    assert [k for k, d in data.items() if d.is_best_in_group] == ["b2"]
    best_id = data["b2"].media_id
    assert f"duplicate:burst_of:{best_id}" in data["b1"].reasons
    assert not data["b1"].is_gem and not data["b3"].is_gem


async def test_nsfw_runs_only_on_would_be_gems_and_blocks_them():
    objects = {"p": photos.photo_jpeg(1), "s": photos.screenshot_png(),
               "d": photos.jpeg(photos.darkened(photos.scene(4)), exif=photos.camera_exif())}
    nsfw = FakeNsfw(score=0.97)
    classify, sink, _, _ = make(objects, nsfw=nsfw, nsfw_min_skin_fraction=0.0)
    await classify.classify([upload(k, i) for i, k in enumerate(objects)])
    data = {e.data.object_key: e.data for e in sink.events}
    assert data["s"].nsfw_score is None and data["d"].nsfw_score is None
    assert nsfw.seen == 1 and data["p"].nsfw_score == 0.97
    assert not any(d.is_gem for d in data.values())
    assert "nsfw:open_nsfw_score" in data["p"].reasons


async def test_nsfw_is_skipped_without_skin_tones_and_scored_safe():
    nsfw = FakeNsfw(score=0.97)
    classify, sink, _, _ = make({"p": photos.photo_jpeg(1)}, nsfw=nsfw, nsfw_min_skin_fraction=1.0)
    await classify.classify([upload("p")])
    data = sink.events[0].data
    assert nsfw.seen == 0 and data.is_gem
    assert data.nsfw_score == 0.0  # screened: the suggester may share it


async def test_erasure_drops_the_rows():
    classify, _, store, _ = make({"p": photos.photo_jpeg(1)})
    u = upload("p")
    await classify.classify([u])
    erased = MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[u.data.media_id, uuid.uuid4()],
        reason=ErasureReason.media_deleted, erased_at=T0))
    assert await EraseMedia(store).erase(erased) == 1
    assert store.rows == {}


@pytest.mark.parametrize("publish", [True, False])
async def test_embedding_publication_is_optional(publish):
    classify, sink, _, _ = make({"p": photos.photo_jpeg(1)}, publish_embedding=publish)
    await classify.classify([upload("p")])
    assert (sink.events[0].data.embedding is not None) is publish


async def test_result_stored_first_by_another_consumer_wins():
    """After a rebalance two consumers may classify the same media: only the stored result
    is ever published, so the media still has exactly one MediaClassified event id."""
    u = upload("p")
    first, first_sink, first_store, _ = make({"p": photos.photo_jpeg(1)})
    await first.classify([u])
    theirs = first_sink.events[0]

    class RacingStore(type(first_store)):
        hidden = True

        async def stored(self, media_ids):  # the first look happens before their commit
            if self.hidden:
                self.hidden = False
                return {}
            return await super().stored(media_ids)

    classify, sink, _, _ = make({"p": photos.photo_jpeg(1)})
    racing = RacingStore()
    racing.rows, racing.current_best = first_store.rows, first_store.current_best
    classify.store = racing
    out = await classify.classify([u])
    assert [e.event_id for e in sink.events] == [theirs.event_id]
    assert out[u.event_id].event.event_id == theirs.event_id
