"""The ingest use cases with in-memory ports: storing, dedupe, no orphans, uploads, erasure."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_common.errors import StoreRefused
from gemroll_contracts import (
    Category,
    ConsentChanged,
    ConsentChangedData,
    ErasureReason,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    ModelInfo,
    UserAction,
    utcnow,
)
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.media import ClientMetadata
from gemroll_ingest.domain.verdicts import MediaFilter

from .fakes import world

USER = "a" * 32
OTHER = "b" * 32
JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)


def consent(user: str, camera_roll: bool, seq: int) -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=user, camera_roll=camera_roll, training_opt_out=False, ledger_seq=seq,
        changed_at=utcnow()))


async def accepted(w, data: bytes, user: str = USER) -> uuid.UUID:
    """Upload `data` directly; its media id."""
    return (await w.ingest.uploads.accept_direct(user, w.stage(data), ClientMetadata())).media_id


@pytest.fixture
async def w():
    w = world()
    await w.ingest.consent.project(consent(USER, True, 1))
    return w


async def test_accepted_upload_is_stored_recorded_and_queued_once(w):
    result = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata(album="A"))

    assert result.status == "accepted"
    key = f"users/{USER}/media/{result.media_id}"
    assert w.blobs.objects == {key: JPEG}
    assert w.media.rows[result.media_id].state == "accepted"
    [message] = w.media.outbox
    assert isinstance(message.event, MediaUploaded)
    assert message.event.data.object_key == key and message.event.data.album == "A"
    assert message.key == USER and message.subject_id == result.media_id
    assert w.wakes == [1]


async def test_same_bytes_again_is_a_duplicate_without_a_second_object_or_event(w):
    first = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    again = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert (again.media_id, again.status) == (first.media_id, "duplicate")
    assert len(w.blobs.objects) == 1 and len(w.media.outbox) == 1


async def test_bytes_being_stored_by_a_concurrent_request_are_in_progress(w):
    first = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    w.media.hold(first.media_id)
    with pytest.raises(errors.UploadInProgress):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert w.media.rows[first.media_id].state == "storing"  # the live claim stays


async def test_a_crashed_requests_claim_is_taken_over_once_its_lease_ran_out(w):
    crashed = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    w.media.hold(crashed.media_id, expired=True)  # killed after reserving, before accepting
    retry = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert retry.status == "accepted" and retry.media_id != crashed.media_id
    assert w.media.rows[crashed.media_id].state == "abandoned"
    await w.janitor.sweep()
    assert set(w.media.rows) == {retry.media_id}
    assert list(w.blobs.objects) == [w.media.rows[retry.media_id].object_key]


async def test_the_lease_is_renewed_while_the_object_is_stored(monkeypatch):
    w = world(reservation_lease_s=0.03)
    original_put = w.blobs.put_file

    async def slow_put(*args, **kwargs):
        await asyncio.sleep(0.1)
        return await original_put(*args, **kwargs)

    monkeypatch.setattr(w.blobs, "put_file", slow_put)
    result = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert result.status == "accepted" and w.media.renewals >= 2


async def test_failed_object_write_leaves_no_row(w):
    w.blobs.fail_put = ConnectionError("s3 down")
    with pytest.raises(errors.StorageUnavailable):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert w.media.rows == {} and w.media.outbox == []


async def test_a_store_refusing_for_good_is_not_worth_a_retry(w):
    w.blobs.fail_put = StoreRefused("object store refused to write an object: AccessDenied")
    with pytest.raises(StoreRefused):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert w.media.rows == {} and w.media.outbox == []


async def test_failed_record_write_removes_the_stored_object(w):
    w.media.fail_accept = ConnectionError("db down")
    with pytest.raises(errors.StorageUnavailable):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert w.blobs.objects == {} and w.media.rows == {}


async def test_an_acceptance_that_committed_but_lost_its_answer_keeps_the_photo(w):
    original_accept = w.media.accept

    async def committed_then_cut(media_id, messages, **kw):
        assert await original_accept(media_id, messages, **kw)
        raise ConnectionResetError("connection lost during COMMIT")

    w.media.accept = committed_then_cut
    result = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert result.status == "accepted"
    assert w.media.rows[result.media_id].state == "accepted" and len(w.blobs.objects) == 1


async def test_when_the_database_cannot_say_the_object_stays_for_the_janitor(w):
    w.media.fail_accept = ConnectionError("db down")

    async def unreachable(media_id):
        raise ConnectionError("db down")

    original_discard, w.media.discard = w.media.discard, unreachable
    with pytest.raises(errors.StorageUnavailable):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    [record] = w.media.rows.values()
    assert record.state == "storing" and len(w.blobs.objects) == 1  # nothing known: keep all
    w.media.discard = original_discard
    w.media.hold(record.media_id, expired=True)
    await w.janitor.sweep()
    assert w.media.rows == {} and w.blobs.objects == {}


async def test_reservation_swept_while_storing_removes_the_object(w):
    original_accept = w.media.accept

    async def swept_then_accept(media_id, messages, **kw):
        await w.media.discard(media_id)
        return await original_accept(media_id, messages, **kw)

    w.media.accept = swept_then_accept
    with pytest.raises(errors.StorageUnavailable):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert w.blobs.objects == {}


async def test_uploads_need_the_latest_consent():
    w = world()
    with pytest.raises(errors.ConsentRequired):
        await w.ingest.uploads.require_consent(USER)
    assert await w.ingest.consent.project(consent(USER, True, 2))
    await w.ingest.uploads.require_consent(USER)
    assert await w.ingest.consent.project(consent(USER, False, 3))
    assert not await w.ingest.consent.project(consent(USER, True, 1))  # stale: ignored
    with pytest.raises(errors.ConsentRequired):
        await w.ingest.uploads.require_consent(USER)


async def test_listing_pages_with_cursors(w):
    ids = [await accepted(w, JPEG + bytes([i])) for i in range(5)]
    seen, cursor = [], None
    while True:
        page = await w.ingest.listing.page(USER, cursor, 2)
        seen += [r.media_id for r in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == list(reversed(ids))
    assert (await w.ingest.listing.page(OTHER, None, 10)).items == []
    with pytest.raises(errors.InvalidCursor):
        await w.ingest.listing.page(USER, "garbage", 2)


async def test_delete_is_announced_once_and_idempotent(w):
    media_id = await accepted(w, JPEG)
    with pytest.raises(errors.MediaNotFound):
        await w.ingest.deletion.delete(OTHER, media_id)
    await w.ingest.deletion.delete(USER, media_id)
    await w.ingest.deletion.delete(USER, media_id)
    actions = [m.event for m in w.media.outbox if isinstance(m.event, UserAction)]
    assert [(a.data.media_id, a.data.action.value) for a in actions] == [
        (media_id, "media_deleted")]
    with pytest.raises(errors.MediaNotFound):
        await w.ingest.listing.get(USER, media_id)
    assert w.blobs.objects  # erasure is the policy service's job


async def test_erasure_deletes_objects_and_tombstones_only_that_users_media(w):
    mine = await accepted(w, JPEG)
    event = MediaErased(producer="policy", data=MediaErasedData(
        user_key=OTHER, media_ids=[mine], reason=ErasureReason.media_deleted,
        erased_at=utcnow()))
    assert await w.ingest.erasure.erase(event) == 0
    assert w.blobs.objects

    event = MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[mine, uuid.uuid4()], reason=ErasureReason.media_deleted,
        erased_at=utcnow()))
    assert await w.ingest.erasure.erase(event) == 1
    assert await w.ingest.erasure.erase(event) == 0  # idempotent
    assert w.blobs.objects == {} and w.media.rows[mine].state == "erased"
    assert w.media.outbox == []


# -- presigned uploads ---------------------------------------------------------------------------
async def put_and_complete(w, data: bytes, user: str = USER):
    created = await w.ingest.presigned.create(user, ClientMetadata(device="phone"))
    w.blobs.objects[f"users/{user}/uploads/{created.upload_id}"] = data
    return created, await w.ingest.presigned.complete(user, created.upload_id)


async def test_presigned_upload_is_moved_to_its_final_key(w):
    created, result = await put_and_complete(w, PNG)
    assert result.status == "accepted"
    assert set(w.blobs.objects) == {f"users/{USER}/media/{result.media_id}"}
    assert w.media.completed_uploads == [created.upload_id]
    assert w.media.outbox[0].event.data.device == "phone"
    again = await w.ingest.presigned.complete(USER, created.upload_id)
    assert again == result


async def test_presigned_duplicate_and_invalid_objects_are_removed(w):
    first = await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    created, result = await put_and_complete(w, JPEG)
    assert (result.media_id, result.status) == (first.media_id, "duplicate")
    assert w.uploads.rows[created.upload_id].outcome == "duplicate"

    with pytest.raises(errors.UnsupportedMediaType):
        await put_and_complete(w, b"not an image")
    assert set(w.blobs.objects) == {f"users/{USER}/media/{first.media_id}"}
    failed = [u for u in w.uploads.rows.values() if u.state == "failed"]
    assert [u.outcome for u in failed] == ["unsupported_media_type"]
    with pytest.raises(errors.UploadClosed):
        await w.ingest.presigned.complete(USER, failed[0].upload_id)


async def test_presigned_upload_states(w):
    created = await w.ingest.presigned.create(USER, ClientMetadata())
    with pytest.raises(errors.UploadIncomplete):
        await w.ingest.presigned.complete(USER, created.upload_id)
    with pytest.raises(errors.UploadNotFound):
        await w.ingest.presigned.complete(OTHER, created.upload_id)
    w.uploads.rows[created.upload_id] = replace(
        w.uploads.rows[created.upload_id], expires_at=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(errors.UploadExpired):
        await w.ingest.presigned.complete(USER, created.upload_id)
    assert w.uploads.rows[created.upload_id].state == "expired"


async def test_presigned_object_over_the_limit_is_refused(w):
    with pytest.raises(errors.TooLarge):
        await put_and_complete(w, JPEG + bytes(2000))
    assert w.blobs.objects == {}


# -- account erasure: the whole inventory ------------------------------------------------------
def opt_out_erase(user: str, seq: int, changed_at: datetime | None = None) -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=user, camera_roll=False, training_opt_out=False, erase_data=True,
        ledger_seq=seq, changed_at=changed_at or utcnow()))


def _content_free(w, media_id) -> bool:
    row = w.media.rows[media_id]
    return row.state == "erased" and row.gps is None and not row.sha256 and not row.object_key


async def test_opt_out_with_erase_erases_every_media_item_of_the_user(w):
    await w.ingest.consent.project(consent(OTHER, True, 1))
    mine = [await accepted(w, JPEG + bytes([i])) for i in range(5)]
    theirs = await accepted(w, JPEG, OTHER)
    await w.ingest.deletion.delete(USER, mine[0])  # deleted but not yet erased: goes too

    await w.ingest.consent.changed(opt_out_erase(USER, 2))

    assert all(_content_free(w, m) for m in mine)
    assert (await w.ingest.listing.page(USER, None, 50)).items == []
    assert not [k for k in w.blobs.objects if k.startswith(f"users/{USER}/")]
    assert [m for m in w.media.outbox if m.key == USER] == []
    assert w.media.rows[theirs].state == "accepted"
    assert f"users/{OTHER}/media/{theirs}" in w.blobs.objects
    # Idempotent: a redelivery erases nothing more and fails nothing.
    await w.ingest.consent.changed(opt_out_erase(USER, 2))
    assert (await w.ingest.listing.page(OTHER, None, 50)).items[0].media_id == theirs


async def test_opt_out_without_erase_keeps_the_media(w):
    media_id = await accepted(w, JPEG)
    await w.ingest.consent.changed(consent(USER, False, 2))
    assert w.media.rows[media_id].state == "accepted"


async def test_late_erase_request_after_a_newer_opt_in_spares_newer_uploads(w):
    old = await accepted(w, JPEG)
    request_time = w.media.rows[old].created_at + timedelta(milliseconds=500)
    await w.ingest.consent.project(consent(USER, True, 3))  # opt-in projected first
    new = await accepted(w, PNG)

    await w.ingest.consent.changed(opt_out_erase(USER, 2, changed_at=request_time))

    assert _content_free(w, old)
    assert w.media.rows[new].state == "accepted"


async def test_an_upload_racing_the_opt_out_is_refused_and_leaves_nothing(w):
    w.media.consent = w.consent
    real_put = w.blobs.put_file

    async def put_then_opt_out(*args, **kwargs):  # the projection flips mid-upload
        await real_put(*args, **kwargs)
        await w.ingest.consent.changed(opt_out_erase(USER, 2))

    w.blobs.put_file = put_then_opt_out
    with pytest.raises(errors.ConsentRequired):
        await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    assert not [k for k in w.blobs.objects if k.startswith(f"users/{USER}/")]
    assert all(r.state == "erased" for r in w.media.rows.values())
    assert (await w.ingest.listing.page(USER, None, 50)).items == []


async def test_media_erased_account_erasure_reaches_media_the_policy_never_listed(w):
    listed = await accepted(w, JPEG)
    unlisted = await accepted(w, PNG)
    await w.ingest.consent.project(consent(USER, False, 2))
    event = MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[listed], reason=ErasureReason.account_erasure,
        erased_at=utcnow()))
    assert await w.ingest.erasure.erase(event) == 2
    assert _content_free(w, listed) and _content_free(w, unlisted)
    assert await w.ingest.erasure.erase(event) == 0


async def test_retention_erasure_deletes_exactly_the_listed_ids(w):
    gone = await accepted(w, JPEG)
    kept = await accepted(w, PNG)
    event = MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[gone], reason=ErasureReason.retention_expired,
        erased_at=utcnow()))
    assert await w.ingest.erasure.erase(event) == 1
    assert _content_free(w, gone)
    assert w.media.rows[kept].state == "accepted"
    assert set(w.blobs.objects) == {f"users/{USER}/media/{kept}"}


async def test_a_classification_marks_accepted_media_once(w):
    media_id = await accepted(w, JPEG)
    verdict = MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=USER, bucket="gemroll-media",
        object_key=f"users/{USER}/media/{media_id}", width=4, height=3,
        category=Category.photo, gem_score=0.5, is_gem=False,
        model=ModelInfo(name="test", version="1")))
    assert await w.ingest.pipeline.classified(verdict)
    assert not await w.ingest.pipeline.classified(verdict)  # a redelivery changes nothing
    assert (await w.ingest.listing.get(USER, media_id)).pipeline_stage == "classified"


def _verdict(media_id, *, is_gem: bool, reasons: list[str], at: datetime) -> MediaClassified:
    return MediaClassified(producer="classifier", occurred_at=at, data=MediaClassifiedData(
        media_id=media_id, user_key=USER, bucket="gemroll-media",
        object_key=f"users/{USER}/media/{media_id}", width=4, height=3,
        category=Category.photo, gem_score=0.9 if is_gem else 0.2, is_gem=is_gem,
        reasons=reasons, model=ModelInfo(name="test", version="1")))


async def test_the_newest_verdict_wins_whatever_order_they_arrive_in(w):
    media_id = await accepted(w, JPEG)
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    newer = _verdict(media_id, is_gem=False, reasons=["duplicate:burst_of:x"],
                     at=t0 + timedelta(seconds=5))
    older = _verdict(media_id, is_gem=True, reasons=["gem:best_shot"], at=t0)
    assert await w.ingest.pipeline.classified(newer)
    assert not await w.ingest.pipeline.classified(older)  # stale: overtaken in the topic
    record = await w.ingest.listing.get(USER, media_id)
    assert record.verdict is not None and not record.verdict.is_gem
    assert record.verdict.signals == ("duplicate",)
    assert record.classified_at == newer.occurred_at


async def test_listing_filters_by_verdict_and_reason_and_counts_the_facets(w):
    sharp, blurry, dark, waiting = [await accepted(w, data) for data in (
        JPEG, JPEG + b"1", JPEG + b"2", JPEG + b"3")]
    at = datetime(2024, 6, 1, tzinfo=UTC)
    for media_id, gem, reasons in ((sharp, True, ["photo:camera_exif", "gem:best_shot"]),
                                   (blurry, False, ["blurry:low_laplacian_variance",
                                                    "blurry:directional_blur", "gem:low_score"]),
                                   (dark, False, ["dark:low_mean_luminance", "gem:low_score"])):
        await w.ingest.pipeline.classified(_verdict(media_id, is_gem=gem, reasons=reasons, at=at))

    async def ids(**where) -> set:
        page = await w.ingest.listing.page(USER, None, 10, MediaFilter(**where))
        return {r.media_id for r in page.items}

    assert await ids() == {sharp, blurry, dark, waiting}
    assert await ids(verdict="gem") == {sharp}
    assert await ids(verdict="junk") == {blurry, dark}
    assert await ids(verdict="unclassified") == {waiting}
    assert await ids(verdict="junk", signal="blurry") == {blurry}
    assert await ids(signal="dark") == {dark}
    facets = await w.ingest.listing.facets(USER)
    assert (facets.total, facets.gems, facets.junk, facets.unclassified) == (4, 1, 2, 1)
    assert facets.junk_signals == {"blurry": 1, "dark": 1}  # "gem:low_score" is no reason


def test_a_reason_filter_is_a_signal_name():
    with pytest.raises(errors.InvalidRequest):
        MediaFilter(signal="blurry' OR 1=1 --")
    assert MediaFilter(signal="low_light").signal == "low_light"


async def test_a_preview_is_made_from_the_users_own_original_only(w):
    media_id = await accepted(w, JPEG)
    assert await w.ingest.listing.preview(USER, media_id, 320) == (
        f"preview of /tmp/fake-users/{USER}/media/{media_id} at 320".encode())
    with pytest.raises(errors.MediaNotFound):
        await w.ingest.listing.preview("someone-else", media_id, 320)


async def test_janitor_removes_a_crashed_reservation_and_its_object(w):
    await w.ingest.uploads.accept_direct(USER, w.stage(JPEG), ClientMetadata())
    [record] = w.media.rows.values()
    w.media.hold(record.media_id, expired=True)  # the process died here
    report = await w.janitor.sweep()
    assert report.reservations == 1
    assert w.media.rows == {} and w.blobs.objects == {}
