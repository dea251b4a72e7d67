"""What the ingest consumes: MediaErased (delete objects, keep tombstones), MediaClassified
(pipeline status), ConsentChanged (projection, bad records dead-lettered); and the janitor."""

from __future__ import annotations

import uuid

import pytest
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    USER_ACTIONS,
    Category,
    DeadLetter,
    ErasureReason,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    ModelInfo,
    Service,
    utcnow,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.topics import produce, read_topic

pytestmark = pytest.mark.integration


async def publish_as(ingest, service: Service, topic, event, key: str) -> None:
    broker = make_broker(ingest.env.kafka, service)
    async with broker:
        await broker.start()
        await EventPublisher(broker, ingest.env.kafka, service).publish(topic, event, key=key)


def erased(user_key: str, media_ids: list[str], reason=ErasureReason.media_deleted):
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=user_key, media_ids=[uuid.UUID(m) for m in media_ids], reason=reason,
        erased_at=utcnow()))


async def test_erasure_deletes_objects_and_keeps_only_tombstones(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    photo = photos.jpeg(exif=photos.exif(make="Canon", gps=(48.8584, 2.2945)))
    gone = (await ingest.upload(account, photo)).json()["media_id"]
    kept = (await ingest.upload(account, photos.jpeg())).json()["media_id"]
    await ingest.client.delete(f"/v1/media/{gone}", headers=ingest.headers(account))

    await publish_as(ingest, Service.policy, MEDIA_ERASED, erased(key, [gone]), key)

    async def tombstoned():
        rows = await ingest.sql("SELECT * FROM media WHERE media_id = $1", uuid.UUID(gone))
        return rows[0] if rows and rows[0]["state"] == "erased" else None

    row = await eventually(tombstoned)
    content = {k: v for k, v in dict(row).items()
               if k not in ("media_id", "user_key", "state", "created_at", "erased_at")}
    assert all(v is None for v in content.values()), content
    assert await ingest.objects(account) == [f"users/{key}/media/{kept}"]
    assert await ingest.sql("SELECT 1 FROM outbox WHERE subject_id = $1 AND"
                            " event_type = 'media.uploaded'", uuid.UUID(gone)) == []
    # The user's pending media_deleted action still leaves; once Kafka has it, the relay
    # deletes its row.
    [action] = await ingest.events(USER_ACTIONS, account, media_id=gone)
    assert action.data.action.value == "media_deleted"
    await eventually(lambda: _none(ingest.sql(
        "SELECT 1 FROM outbox WHERE subject_id = $1", uuid.UUID(gone))))
    headers = ingest.headers(account)
    assert (await ingest.client.get(f"/v1/media/{gone}", headers=headers)).status_code == 404
    assert (await ingest.client.get(f"/v1/media/{kept}", headers=headers)).status_code == 200
    again = await ingest.upload(account, photo)  # erased bytes are not a duplicate any more
    assert again.status_code == 201 and again.json()["media_id"] != gone


async def _none(rows) -> bool:
    return await rows == []


async def test_account_erasure_also_removes_pending_uploads(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    media_id = (await ingest.upload(account, photos.jpeg())).json()["media_id"]
    upload = (await ingest.client.post("/v1/uploads", headers=ingest.headers(account))).json()
    await ingest.store.put_bytes(f"users/{key}/uploads/{upload['upload_id']}", b"x", "image/jpeg")

    await publish_as(ingest, Service.policy, MEDIA_ERASED,
                     erased(key, [media_id], ErasureReason.account_erasure), key)

    async def nothing_left() -> bool:
        return (await ingest.objects(account) == [] and
                await ingest.objects(account, "uploads") == [] and
                await ingest.sql("SELECT 1 FROM uploads WHERE user_key = $1", key) == [])

    await eventually(nothing_left)


async def test_erasure_ignores_other_users_media(ingest):
    owner, other = await ingest.opted_in_user(), await ingest.opted_in_user()
    media_id = (await ingest.upload(owner, photos.jpeg())).json()["media_id"]
    other_key = ingest.user_key(other)
    await publish_as(ingest, Service.policy, MEDIA_ERASED, erased(other_key, [media_id]),
                     other_key)
    await ingest.consumed(MEDIA_ERASED, "ingest.erasure")
    assert (await ingest.client.get(f"/v1/media/{media_id}",
                                    headers=ingest.headers(owner))).status_code == 200


async def test_classification_shows_in_the_pipeline_status(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    media_id = (await ingest.upload(account, photos.jpeg())).json()["media_id"]
    verdict = MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=uuid.UUID(media_id), user_key=key, bucket=ingest.store.bucket,
        object_key=f"users/{key}/media/{media_id}", width=96, height=64,
        category=Category.photo, gem_score=0.9, is_gem=True,
        model=ModelInfo(name="test", version="1")))

    await publish_as(ingest, Service.classifier, MEDIA_CLASSIFIED, verdict, key)

    async def classified_and_announced():
        # The verdict is published straight away, so it may overtake the outbox relay.
        item = (await ingest.client.get(f"/v1/media/{media_id}",
                                        headers=ingest.headers(account))).json()
        pipeline = item["pipeline"]
        return item if pipeline["classified_at"] and pipeline["announced_at"] else None

    item = await eventually(classified_and_announced)
    assert item["pipeline"]["stage"] == "classified"


async def test_malformed_consent_record_is_dead_lettered_and_projection_goes_on(ingest):
    account = f"acct-{uuid.uuid4().hex[:12]}"
    key = ingest.user_key(account)
    bad = b'{"event_type": "consent.changed", "data": {"user_key": "nope"}}'
    await produce(ingest.env.kafka.bootstrap_servers, ingest.env.topic(CONSENT), bad,
                  key=key.encode())
    await ingest.set_consent(account)
    letters = [DeadLetter.from_json(v) for v in await read_topic(
        ingest.env.kafka.bootstrap_servers, ingest.env.topic(DEAD_LETTERS),
        until=lambda values: any(bad in DeadLetter.from_json(v).data.original_value
                                 for v in values))]
    [letter] = [x for x in letters if x.data.original_value == bad]
    assert letter.data.consumer_group == f"ingest.consent{ingest.env.suffix}"
    assert (await ingest.upload(account, photos.jpeg())).status_code == 201


async def test_janitor_removes_what_crashed_uploads_left_behind(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    # A reservation whose process died after storing the object.
    crashed = uuid.uuid4()
    crashed_key = f"users/{key}/media/{crashed}"
    await ingest.store.put_bytes(crashed_key, photos.jpeg(), "image/jpeg")
    await ingest.sql(
        "INSERT INTO media (media_id, user_key, state, source, object_key, content_type,"
        " size_bytes, sha256, width, height, created_at, lease_until) VALUES ($1, $2,"
        " 'storing', 'direct', $3, 'image/jpeg', 10, $4, 1, 1, now() - interval '1 day',"
        " now() - interval '1 day')",
        crashed, key, crashed_key, "0" * 64)
    # A presigned upload never completed.
    upload = (await ingest.client.post("/v1/uploads", headers=ingest.headers(account))).json()
    staging = f"users/{key}/uploads/{upload['upload_id']}"
    await ingest.store.put_bytes(staging, b"x", "image/jpeg")
    await ingest.sql("UPDATE uploads SET expires_at = now() - interval '2 days'"
                     " WHERE upload_id = $1", uuid.UUID(upload["upload_id"]))

    report = await ingest.app.state.janitor.sweep()

    assert report.reservations >= 1 and report.expired_uploads >= 1
    assert await ingest.objects(account) == []
    assert await ingest.objects(account, "uploads") == []
    assert await ingest.sql("SELECT 1 FROM media WHERE media_id = $1", crashed) == []
    [row] = await ingest.sql("SELECT state FROM uploads WHERE upload_id = $1",
                             uuid.UUID(upload["upload_id"]))
    assert row["state"] == "expired"
