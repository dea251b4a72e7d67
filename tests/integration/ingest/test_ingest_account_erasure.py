"""An opt-out with erase_data reaches the ingest's whole inventory (media never classified or
announced included), also while uploads are still arriving; on the real stack."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from gemroll_contracts import (
    CONSENT,
    MEDIA_ERASED,
    ConsentChanged,
    ConsentChangedData,
    ErasureReason,
    MediaErased,
    MediaErasedData,
    Service,
    utcnow,
)
from gemroll_testkit import eventually, photos

from .test_ingest_consumers import publish_as

pytestmark = pytest.mark.integration

CONTENT_COLUMNS = (
    "source", "object_key", "content_type", "size_bytes", "sha256", "width", "height",
    "captured_at", "camera_make", "camera_model", "orientation", "coarse_location", "device",
    "album", "gps_latitude", "gps_longitude", "gps_altitude_m",
)


async def publish_erase_opt_out(ingest, account: str, seq: int) -> None:
    key = ingest.user_key(account)
    event = ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=key, camera_roll=False, training_opt_out=False, erase_data=True,
        ledger_seq=seq, changed_at=utcnow()))
    await ingest.consent_publisher.publish(CONSENT, event, key=key)


async def nothing_left(ingest, account: str) -> bool:
    key = ingest.user_key(account)
    listed = await ingest.client.get("/v1/media?limit=100", headers=ingest.headers(account))
    if listed.status_code != 200 or listed.json()["items"]:
        return False
    if await ingest.store.list_keys(f"users/{key}/"):
        return False
    live = await ingest.sql("SELECT 1 FROM media WHERE user_key = $1 AND state <> 'erased'", key)
    return not live


async def assert_only_tombstones(ingest, account: str) -> None:
    key = ingest.user_key(account)
    rows = await ingest.sql("SELECT * FROM media WHERE user_key = $1", key)
    for row in rows:
        assert row["state"] == "erased"
        assert all(row[c] is None for c in CONTENT_COLUMNS), dict(row)
    ids = [r["media_id"] for r in rows]
    assert await ingest.sql(
        "SELECT 1 FROM outbox WHERE message_key = $1 OR subject_id = ANY($2::uuid[])",
        key, ids) == []
    assert await ingest.sql("SELECT 1 FROM uploads WHERE user_key = $1", key) == []
    assert await ingest.store.list_keys(f"users/{key}/") == []


async def test_opt_out_with_erase_right_after_15_uploads_leaves_nothing(ingest):
    account = await ingest.opted_in_user()
    gps = photos.exif(make="Canon", gps=(48.8584, 2.2945))
    for _ in range(15):
        response = await ingest.upload(account, photos.jpeg(exif=gps))
        assert response.status_code == 201, response.text

    await publish_erase_opt_out(ingest, account, seq=2)

    await eventually(lambda: nothing_left(ingest, account), timeout_s=30)
    await assert_only_tombstones(ingest, account)
    assert len(await ingest.sql("SELECT 1 FROM media WHERE user_key = $1",
                                ingest.user_key(account))) == 15
    refused = await ingest.upload(account, photos.jpeg())
    assert refused.status_code == 403


async def test_uploads_racing_the_erase_opt_out_do_not_survive(ingest):
    account = await ingest.opted_in_user()
    files = [photos.jpeg(exif=photos.exif(gps=(1.0 + i, 2.0))) for i in range(15)]

    async def uploads() -> list[int]:
        return [r.status_code for r in
                await asyncio.gather(*(ingest.upload(account, p) for p in files))]

    async def opt_out() -> None:
        await asyncio.sleep(0.05)
        await publish_erase_opt_out(ingest, account, seq=2)

    statuses, _ = await asyncio.gather(uploads(), opt_out())
    assert set(statuses) <= {201, 403, 503}, statuses

    await eventually(lambda: nothing_left(ingest, account), timeout_s=30)
    await ingest.consumed(CONSENT, "ingest.consent")  # the opt-out is handled: still nothing
    assert await nothing_left(ingest, account)
    await assert_only_tombstones(ingest, account)


async def test_account_erasure_event_erases_media_the_policy_did_not_list(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    ids = [(await ingest.upload(account, photos.jpeg())).json()["media_id"] for _ in range(3)]
    await ingest.set_consent(account, camera_roll=False, seq=2)  # opt-out, no erase flag
    event = MediaErased(producer="policy", data=MediaErasedData(
        user_key=key, media_ids=[uuid.UUID(ids[0])], reason=ErasureReason.account_erasure,
        erased_at=utcnow()))

    await publish_as(ingest, Service.policy, MEDIA_ERASED, event, key)

    await eventually(lambda: nothing_left(ingest, account), timeout_s=30)
    await assert_only_tombstones(ingest, account)


async def test_acceptance_holds_the_projection_and_is_refused_after_the_flip(ingest):
    """The lock protocol itself: an acceptance in flight delays the opt-out's projection (so
    the erasure that follows finds the photo); after the flip, acceptance is refused."""
    from gemroll_ingest.adapters.postgres import PgConsentRepository, PgMediaRepository
    from gemroll_ingest.domain.consent import ConsentState
    from gemroll_ingest.domain.errors import ConsentRequired

    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    media_id = uuid.uuid4()
    await ingest.sql(
        "INSERT INTO media (media_id, user_key, state, source, object_key, content_type,"
        " size_bytes, sha256, width, height) VALUES ($1, $2, 'storing', 'direct', $3,"
        " 'image/jpeg', 10, $4, 1, 1)", media_id, key, f"users/{key}/media/{media_id}",
        uuid.uuid4().hex * 2)
    consent = PgConsentRepository(ingest.pool)
    async with ingest.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.fetchval("SELECT camera_roll FROM consent WHERE user_key = $1 FOR SHARE", key)
        flip = asyncio.create_task(consent.apply(ConsentState(
            user_key=key, camera_roll=False, training_opt_out=False, ledger_seq=5,
            changed_at=utcnow())))
        holder = conn.get_server_pid()

        async def flip_blocked_or_done() -> bool:
            return flip.done() or bool(await ingest.sql(
                "SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder))

        await eventually(flip_blocked_or_done, "the flip to wait for the row (or finish)")
        assert not flip.done()  # waits for the acceptance holding the row
        await tx.commit()
    assert await asyncio.wait_for(flip, 10)
    with pytest.raises(ConsentRequired):
        await PgMediaRepository(ingest.pool).accept(media_id, [])
    assert (await ingest.sql("SELECT state FROM media WHERE media_id = $1",
                             media_id))[0]["state"] == "storing"
    await ingest.sql("DELETE FROM media WHERE media_id = $1", media_id)
