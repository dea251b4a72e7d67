"""The two-step upload: POST /v1/uploads, PUT to the presigned URL, then complete."""

from __future__ import annotations

import uuid

import httpx
import pytest
from gemroll_contracts import MEDIA_UPLOADED
from gemroll_testkit import photos

pytestmark = pytest.mark.integration


async def start(ingest, account: str, metadata: dict | None = None) -> dict:
    response = await ingest.client.post("/v1/uploads", json=metadata,
                                        headers=ingest.headers(account))
    assert response.status_code == 201, response.text
    return response.json()


async def put(url: str, data: bytes) -> None:
    async with httpx.AsyncClient() as s3:
        response = await s3.put(url, content=data)
    assert response.status_code == 200, response.text


async def complete(ingest, account: str, upload_id: str) -> httpx.Response:
    return await ingest.client.post(f"/v1/uploads/{upload_id}/complete",
                                    headers=ingest.headers(account))


async def test_presigned_upload_is_validated_moved_and_announced(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    photo = photos.heic(exif=photos.exif(make="Apple", model="iPhone 15"))
    upload = await start(ingest, account, {"album": "Trip", "device": "iPhone"})
    assert set(upload) == {"upload_id", "url", "method", "expires_at"}
    assert upload["method"] == "PUT"
    assert f"users/{key}/uploads/{upload['upload_id']}" in upload["url"]

    await put(upload["url"], photo)
    response = await complete(ingest, account, upload["upload_id"])

    assert response.status_code == 201, response.text
    media_id = response.json()["media_id"]
    assert response.json()["status"] == "accepted"
    assert await ingest.objects(account) == [f"users/{key}/media/{media_id}"]
    assert await ingest.objects(account, "uploads") == []
    stat = await ingest.store.stat(f"users/{key}/media/{media_id}")
    assert stat.content_type == "image/heic"
    [event] = await ingest.events(MEDIA_UPLOADED, account)
    assert str(event.data.media_id) == media_id
    assert (event.data.album, event.data.device, event.data.camera_make) == (
        "Trip", "iPhone", "Apple")

    repeated = await complete(ingest, account, upload["upload_id"])
    assert repeated.status_code == 201 and repeated.json() == response.json()


async def test_complete_before_the_put_is_a_conflict(ingest):
    account = await ingest.opted_in_user()
    upload = await start(ingest, account)
    response = await complete(ingest, account, upload["upload_id"])
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "upload_incomplete"
    await put(upload["url"], photos.jpeg())  # still possible afterwards
    assert (await complete(ingest, account, upload["upload_id"])).status_code == 201


async def test_presigned_duplicate_returns_the_existing_id_and_drops_the_staging_copy(ingest):
    account = await ingest.opted_in_user()
    photo = photos.jpeg()
    direct = (await ingest.upload(account, photo)).json()
    upload = await start(ingest, account)
    await put(upload["url"], photo)

    response = await complete(ingest, account, upload["upload_id"])

    assert response.status_code == 200
    assert response.json() == {**direct, "status": "duplicate"}
    assert len(await ingest.objects(account)) == 1
    assert await ingest.objects(account, "uploads") == []


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"definitely not a photo", 415, "unsupported_media_type"),
    (photos.truncated(photos.jpeg(), 0.5), 422, "invalid_image"),
    (b"\xff\xd8\xff" + bytes(4 * 1024 * 1024), 413, "too_large"),
])
async def test_invalid_presigned_object_is_refused_and_removed(ingest, data, status, code):
    account = await ingest.opted_in_user()
    upload = await start(ingest, account)
    await put(upload["url"], data)

    response = await complete(ingest, account, upload["upload_id"])

    assert response.status_code == status
    assert response.json()["detail"]["code"] == code
    assert await ingest.objects(account, "uploads") == []
    assert await ingest.objects(account) == []
    closed = await complete(ingest, account, upload["upload_id"])
    assert closed.status_code == 409 and closed.json()["detail"]["code"] == "upload_closed"


async def test_uploads_are_private_and_need_consent(ingest):
    owner, other = await ingest.opted_in_user(), await ingest.opted_in_user()
    upload = await start(ingest, owner)
    await put(upload["url"], photos.jpeg())
    for upload_id in (upload["upload_id"], str(uuid.uuid4())):
        response = await complete(ingest, other, upload_id)
        assert response.status_code == 404
        assert response.json()["detail"]["code"] == "upload_not_found"

    stranger = f"acct-{uuid.uuid4().hex[:12]}"
    refused = await ingest.client.post("/v1/uploads", headers=ingest.headers(stranger))
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "consent_required"

    await ingest.set_consent(owner, camera_roll=False, seq=2)
    revoked = await complete(ingest, owner, upload["upload_id"])
    assert revoked.status_code == 403
    assert await ingest.objects(owner, "uploads") == []  # bytes without consent are not kept


async def test_expired_upload_is_gone(ingest):
    account = await ingest.opted_in_user()
    upload = await start(ingest, account)
    await put(upload["url"], photos.jpeg())
    await ingest.sql("UPDATE uploads SET expires_at = now() - make_interval(secs => $2)"
                     " WHERE upload_id = $1", uuid.UUID(upload["upload_id"]),
                     float(ingest.settings.complete_grace_s + 60))

    response = await complete(ingest, account, upload["upload_id"])

    assert response.status_code == 410 and response.json()["detail"]["code"] == "upload_expired"
    assert await ingest.objects(account, "uploads") == []


@pytest.mark.parametrize("body", ['{"captured_at": "yesterday"}',
                                  '{"device": "\\u0000"}', '{"album": "\\udacc"}'])
async def test_metadata_of_an_upload_is_validated(ingest, body):
    account = await ingest.opted_in_user()
    response = await ingest.client.post(
        "/v1/uploads", content=body,
        headers={**ingest.headers(account), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "invalid_request"


async def test_a_late_put_after_completion_is_swept_once_the_url_expires(ingest):
    account = await ingest.opted_in_user()
    upload = await start(ingest, account)
    await put(upload["url"], photos.jpeg())
    assert (await complete(ingest, account, upload["upload_id"])).status_code == 201
    await put(upload["url"], photos.jpeg())  # the URL is still valid: the key comes back
    assert len(await ingest.objects(account, "uploads")) == 1
    await ingest.sql("UPDATE uploads SET expires_at = now() - interval '1 minute'"
                     " WHERE upload_id = $1", uuid.UUID(upload["upload_id"]))

    await ingest.app.state.janitor.sweep()

    assert await ingest.objects(account, "uploads") == []
    [row] = await ingest.sql("SELECT swept_at FROM uploads WHERE upload_id = $1",
                             uuid.UUID(upload["upload_id"]))
    assert row["swept_at"] is not None
