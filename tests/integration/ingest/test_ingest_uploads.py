"""POST /v1/media against the real stack: stored, recorded, announced once; every refusal."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from gemroll_contracts import CONSENT, MEDIA_UPLOADED, MediaUploaded
from gemroll_testkit import eventually, photos

from .conftest import MB

pytestmark = pytest.mark.integration

PARIS_OFFSET = "+02:00"
GPS = (57.64911, 10.40744)  # geohash u4pruydqqvj
COARSE = "u4pru"


def detail(response) -> dict:
    body = response.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


async def test_upload_is_stored_recorded_and_announced_with_coarse_location_only(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    photo = photos.jpeg(exif=photos.exif(
        make="Canon", model="EOS R5", orientation=6, taken="2024:05:06 07:08:09",
        offset=PARIS_OFFSET, gps=GPS))
    metadata = json.dumps({"device": "Pixel 9", "album": "Holidays"})

    response = await ingest.upload(account, photo, metadata=metadata, filename="../../etc/x.jpg")

    assert response.status_code == 201, response.text
    body = response.json()
    media_id = body["media_id"]
    assert body == {"media_id": media_id, "sha256": hashlib.sha256(photo).hexdigest(),
                    "status": "accepted"}
    object_key = f"users/{key}/media/{media_id}"
    assert await ingest.objects(account) == [object_key]
    stat = await ingest.store.stat(object_key)
    assert stat.content_type == "image/jpeg"
    assert stat.metadata.get("sha256") == body["sha256"]
    assert await ingest.store.get_bytes(object_key) == photo

    [raw] = await ingest.raw_events(MEDIA_UPLOADED, account)
    event = MediaUploaded.from_json(raw).data
    assert str(event.media_id) == media_id and event.user_key == key
    assert event.object_key == object_key and event.bucket == ingest.env.s3.bucket
    assert (event.content_type, event.size_bytes, event.width, event.height) == (
        "image/jpeg", len(photo), 96, 64)
    assert (event.camera_make, event.camera_model, event.orientation) == ("Canon", "EOS R5", 6)
    assert event.captured_at == datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC)
    assert (event.device, event.album) == ("Pixel 9", "Holidays")
    assert event.coarse_location == COARSE
    assert b"57.64" not in raw and b"10.40" not in raw and b"latitude" not in raw

    [row] = await ingest.sql("SELECT gps_latitude, gps_longitude, coarse_location FROM media"
                             " WHERE media_id = $1", uuid.UUID(media_id))
    assert row["gps_latitude"] == pytest.approx(GPS[0], abs=1e-6)
    assert row["gps_longitude"] == pytest.approx(GPS[1], abs=1e-6)

    async def announced() -> dict | None:
        got = (await ingest.client.get(f"/v1/media/{media_id}", headers=ingest.headers(account)))
        item = got.json()
        return item if item["pipeline"]["stage"] == "announced" else None

    item = await eventually(announced)
    assert item["coarse_location"] == COARSE and "gps" not in json.dumps(item)
    assert item["captured_at"] == "2024-05-06T05:08:09Z"


async def test_same_bytes_twice_is_a_duplicate_without_second_object_or_event(ingest):
    account = await ingest.opted_in_user()
    photo = photos.jpeg()

    first = await ingest.upload(account, photo)
    again = await ingest.upload(account, photo, filename="renamed.jpg")

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert len(await ingest.objects(account)) == 1
    # Events of one user keep their order: once a later upload is announced, a second
    # announcement of the first could only have come before it.
    later = await ingest.upload(account, photos.jpeg())
    events = [MediaUploaded.from_json(v).data.media_id for v in
              await ingest.raw_events(MEDIA_UPLOADED, account, count=2)]
    assert [str(m) for m in events] == [first.json()["media_id"], later.json()["media_id"]]


async def test_same_bytes_from_another_user_are_that_users_own_media(ingest):
    photo = photos.jpeg()
    one, two = await ingest.opted_in_user(), await ingest.opted_in_user()
    first, second = await ingest.upload(one, photo), await ingest.upload(two, photo)
    assert first.status_code == second.status_code == 201
    assert first.json()["media_id"] != second.json()["media_id"]


@pytest.mark.parametrize("kind", ["heic", "avif", "png", "webp"])
async def test_other_accepted_formats(ingest, kind):
    account = await ingest.opted_in_user()
    data = {
        "heic": lambda: photos.heic(exif=photos.exif(make="Apple", model="iPhone 15",
                                                            gps=GPS)),
        "avif": lambda: photos.avif(exif=photos.exif(make="Apple", model="iPhone 15",
                                                            gps=GPS)),
        "png": photos.png,
        "webp": photos.webp,
    }[kind]()

    response = await ingest.upload(account, data, filename="photo.jpg")  # the name is ignored

    assert response.status_code == 201, response.text
    item = (await ingest.client.get(f"/v1/media/{response.json()['media_id']}",
                                    headers=ingest.headers(account))).json()
    assert item["content_type"] == f"image/{kind}"
    assert (item["width"], item["height"]) == (96, 64)
    if kind in ("heic", "avif"):
        assert (item["camera_make"], item["camera_model"]) == ("Apple", "iPhone 15")
        [event] = await ingest.events(MEDIA_UPLOADED, account)
        assert event.data.content_type == f"image/{kind}"
        assert event.data.coarse_location == COARSE


@pytest.mark.parametrize(("data", "code"), [
    (b"GIF89a" + bytes(200), "unsupported_media_type"),
    (b"%PDF-1.7\n" + bytes(200), "unsupported_media_type"),
    (b"just some text, not a photo", "unsupported_media_type"),
])
async def test_unsupported_types_are_refused_with_415(ingest, data, code):
    account = await ingest.opted_in_user()
    response = await ingest.upload(account, data, filename="photo.jpg")
    assert response.status_code == 415
    assert detail(response)["code"] == code
    assert await ingest.objects(account) == []


@pytest.mark.parametrize("kind", ["jpeg", "png", "heic"])
async def test_corrupt_or_truncated_images_are_refused_with_422(ingest, kind):
    account = await ingest.opted_in_user()
    whole = {"jpeg": photos.jpeg, "png": photos.png, "heic": photos.heic}[kind]()
    response = await ingest.upload(account, photos.truncated(whole, 0.7))
    assert response.status_code == 422, response.text
    assert detail(response)["code"] == "invalid_image"
    assert await ingest.objects(account) == []
    assert await ingest.sql("SELECT 1 FROM media WHERE user_key = $1",
                            ingest.user_key(account)) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_decompression_bomb_is_refused_with_422(ingest):
    account = await ingest.opted_in_user()
    bomb = photos.bomb_png(ingest.settings.max_image_pixels + 1)
    assert len(bomb) < 64 * 1024
    response = await ingest.upload(account, bomb)
    assert response.status_code == 422
    assert detail(response)["code"] == "too_many_pixels"


async def test_empty_file_is_refused(ingest):
    account = await ingest.opted_in_user()
    response = await ingest.upload(account, b"")
    assert response.status_code == 422 and detail(response)["code"] == "empty_file"


async def test_file_over_the_limit_is_refused_with_413(ingest):
    account = await ingest.opted_in_user()
    limit = ingest.settings.max_upload_bytes
    response = await ingest.upload(account, b"\xff\xd8\xff" + bytes(limit))
    assert response.status_code == 413 and detail(response)["code"] == "too_large"
    assert await ingest.objects(account) == []


async def test_oversized_stream_is_refused_without_reading_past_the_limit(ingest):
    """No Content-Length (chunked): the body is counted while it arrives."""
    account = await ingest.opted_in_user()
    boundary = "gemroll-test-boundary"
    chunk, chunks_total = bytes(256 * 1024), 64  # 16 MiB offered, the limit is 4 MiB
    consumed = 0

    async def body():
        nonlocal consumed
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
        yield b"\xff\xd8\xff"
        for _ in range(chunks_total):
            consumed += 1
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await ingest.client.post(
        "/v1/media", content=body(),
        headers={**ingest.headers(account),
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert response.status_code == 413 and detail(response)["code"] == "too_large"
    limit_chunks = ingest.settings.max_upload_bytes // len(chunk)
    assert consumed <= limit_chunks + 1 < chunks_total


async def test_declared_oversized_body_is_refused_before_reading(ingest):
    account = await ingest.opted_in_user()
    response = await ingest.client.post(
        "/v1/media", content=b"x",
        headers={**ingest.headers(account), "Content-Length": str(100 * MB),
                 "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and detail(response)["code"] == "too_large"


@pytest.mark.parametrize(("metadata", "needle"), [
    ("{not json", "invalid metadata"),
    (json.dumps({"captured_at": "2024-05-06T07:08:09"}), "captured_at"),  # no zone
    (json.dumps({"camera": "x"}), "camera"),
    (json.dumps({"album": "a" * 201}), "album"),
    ('{"device": "a\\u0000b"}', "NUL"),  # valid JSON that PostgreSQL cannot store
    ('{"album": "\\udacc"}', "invalid metadata"),
])
async def test_invalid_metadata_is_refused_with_422(ingest, metadata, needle):
    account = await ingest.opted_in_user()
    response = await ingest.upload(account, photos.jpeg(), metadata=metadata)
    assert response.status_code == 422
    assert detail(response)["code"] == "invalid_metadata"
    assert needle in detail(response)["message"]


async def test_client_capture_time_wins_over_exif(ingest):
    account = await ingest.opted_in_user()
    photo = photos.jpeg(exif=photos.exif(taken="2020:01:01 00:00:00"))
    response = await ingest.upload(
        account, photo, metadata=json.dumps({"captured_at": "2024-05-06T07:08:09+02:00"}))
    item = (await ingest.client.get(f"/v1/media/{response.json()['media_id']}",
                                    headers=ingest.headers(account))).json()
    assert item["captured_at"] == "2024-05-06T05:08:09Z"


async def test_malformed_requests_are_refused(ingest):
    account = await ingest.opted_in_user()
    headers = ingest.headers(account)
    not_multipart = await ingest.client.post("/v1/media", content=photos.jpeg(),
                                             headers={**headers, "Content-Type": "image/jpeg"})
    assert not_multipart.status_code == 415
    assert detail(not_multipart)["code"] == "multipart_required"
    no_file = await ingest.client.post("/v1/media", data={"metadata": "{}"},
                                       files={"other": ("x", b"y")}, headers=headers)
    assert no_file.status_code == 400 and detail(no_file)["code"] == "invalid_request"
    only_metadata = await ingest.client.post(
        "/v1/media", files={"metadata": (None, "{}")}, headers=headers)
    assert only_metadata.status_code == 400 and "file" in detail(only_metadata)["message"]


async def test_uploads_need_consent(ingest):
    never = f"acct-{uuid.uuid4().hex[:12]}"
    response = await ingest.upload(never, photos.jpeg())
    assert response.status_code == 403 and detail(response)["code"] == "consent_required"

    opted_out = f"acct-{uuid.uuid4().hex[:12]}"
    await ingest.set_consent(opted_out, camera_roll=False)
    assert (await ingest.upload(opted_out, photos.jpeg())).status_code == 403

    revoking = await ingest.opted_in_user()
    assert (await ingest.upload(revoking, photos.jpeg())).status_code == 201
    await ingest.set_consent(revoking, camera_roll=False, seq=3)
    assert (await ingest.upload(revoking, photos.jpeg())).status_code == 403
    # An older ledger position arriving late does not undo the revocation.
    await ingest.set_consent(revoking, camera_roll=True, seq=2, wait=False)
    await ingest.consumed(CONSENT, "ingest.consent")
    state = await ingest.consent_state(ingest.user_key(revoking))
    assert (state.ledger_seq, state.camera_roll) == (3, False)
    assert (await ingest.upload(revoking, photos.jpeg())).status_code == 403
    await ingest.set_consent(revoking, camera_roll=True, seq=4)
    assert (await ingest.upload(revoking, photos.jpeg())).status_code == 201
