"""Videos through the ingest on the real stack: sniffed, probed, stored with a poster frame,
recorded (exact location in the private columns only) and announced as MediaUploaded with
media_kind video; listed and previewed; erased with their poster; every refusal."""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import UTC, datetime

import pytest
from gemroll_common.media_privacy import find_metadata
from gemroll_contracts import MEDIA_ERASED, MEDIA_UPLOADED, ErasureReason, MediaUploaded, Service
from gemroll_ingest.domain.geohash import coarse
from gemroll_testkit import eventually, photos
from gemroll_testkit.clips import clip
from PIL import Image

from .test_ingest_consumers import erased, publish_as
from .test_ingest_presigned import complete, put, start
from .test_ingest_uploads import detail

pytestmark = pytest.mark.integration

TAKEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PARIS = (48.8584, 2.2945)


async def uploaded(ingest, account: str, data: bytes, **kwargs) -> str:
    response = await ingest.upload(account, data, filename="clip.bin", **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["media_id"]


async def event_of(ingest, account: str, media_id: str) -> tuple[MediaUploaded, bytes]:
    [raw] = await ingest.raw_events(MEDIA_UPLOADED, account,
                                    where=lambda v: media_id.encode() in v)
    return MediaUploaded.from_json(raw), raw


async def test_an_mp4_is_stored_with_a_poster_announced_listed_and_previewed(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    data = clip(container="mp4", codec="h264", seconds=2, audio=True, size=(320, 240))

    media_id = await uploaded(ingest, account, data)

    media_key, poster_key = f"users/{key}/media/{media_id}", f"users/{key}/posters/{media_id}.jpg"
    assert await ingest.objects(account) == [media_key]
    assert await ingest.objects(account, "posters") == [poster_key]
    assert (await ingest.store.stat(media_key)).content_type == "video/mp4"
    assert await ingest.store.get_bytes(media_key) == data
    poster = await ingest.store.get_bytes(poster_key)
    assert find_metadata(poster) == []
    with Image.open(io.BytesIO(poster)) as image:
        assert (image.format, image.size) == ("JPEG", (320, 240))

    event, _ = await event_of(ingest, account, media_id)
    d = event.data
    assert (d.media_kind, d.content_type, d.width, d.height, d.size_bytes) == (
        "video", "video/mp4", 320, 240, len(data))
    assert d.video is not None
    assert d.video.duration_s == pytest.approx(2.0, abs=0.1)
    assert (d.video.fps, d.video.video_codec, d.video.has_audio, d.video.rotation,
            d.video.poster_key) == (24.0, "h264", True, 0, poster_key)
    assert d.orientation is None and d.coarse_location is None

    headers = ingest.headers(account)
    [item] = (await ingest.client.get("/v1/media", headers=headers)).json()["items"]
    assert (item["media_kind"], item["content_type"]) == ("video", "video/mp4")
    assert item["duration_s"] == pytest.approx(2.0, abs=0.1)
    preview = await ingest.client.get(f"/v1/media/{media_id}/preview?size=160", headers=headers)
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.size == (160, 120)
    assert find_metadata(preview.content) == []


async def test_a_phone_mov_announces_the_geohash_and_keeps_the_exact_point_private(ingest):
    account = await ingest.opted_in_user()
    data = clip(container="mov", codec="hevc", seconds=1, size=(160, 120), rotation=90,
                created_at=TAKEN, location=PARIS)

    media_id = await uploaded(ingest, account, data, metadata=json.dumps({"album": "Trip"}))

    event, raw = await event_of(ingest, account, media_id)
    d = event.data
    assert (d.content_type, d.media_kind, d.width, d.height) == (
        "video/quicktime", "video", 120, 160)  # the displayed (upright) size
    assert d.captured_at == TAKEN and d.album == "Trip"
    assert d.coarse_location == coarse(*PARIS) and len(d.coarse_location) == 5
    # set_display_rotation(90) turns counter-clockwise; the event says clockwise
    assert d.video is not None and (d.video.video_codec, d.video.rotation) == ("hevc", 270)
    assert b"48.85" not in raw and b"2.294" not in raw and b"ISO6709" not in raw
    [row] = await ingest.sql(
        "SELECT gps_latitude, gps_longitude, media_kind, video_codec, poster_key FROM media"
        " WHERE media_id = $1", uuid.UUID(media_id))
    assert (row["gps_latitude"], row["gps_longitude"]) == pytest.approx(PARIS, abs=1e-4)
    assert (row["media_kind"], row["video_codec"]) == ("video", "hevc")
    item = (await ingest.client.get(f"/v1/media/{media_id}",
                                    headers=ingest.headers(account))).json()
    assert item["coarse_location"] == coarse(*PARIS) and "48.85" not in json.dumps(item)
    with Image.open(io.BytesIO(await ingest.store.get_bytes(row["poster_key"]))) as poster:
        assert poster.size == (120, 160)  # upright


async def test_the_clients_capture_time_wins_as_for_photos(ingest):
    account = await ingest.opted_in_user()
    data = clip(container="mp4", seconds=0.5, size=(64, 48), created_at=TAKEN)
    client_time = "2023-01-02T03:04:05+01:00"
    media_id = await uploaded(ingest, account, data,
                              metadata=json.dumps({"captured_at": client_time}))
    event, _ = await event_of(ingest, account, media_id)
    assert event.data.captured_at == datetime(2023, 1, 2, 2, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("container", "codec", "content_type"), [
    ("mp4", "hevc", "video/mp4"),
    ("mov", "h264", "video/quicktime"),
    ("webm", "vp9", "video/webm"),
    ("mkv", "h264", "video/x-matroska"),
    ("m4v", "h264", "video/x-m4v"),
])
async def test_each_container_and_codec_is_accepted(ingest, container, codec, content_type):
    account = await ingest.opted_in_user()
    data = clip(container=container, codec=codec, seconds=1, size=(160, 120))
    media_id = await uploaded(ingest, account, data)
    event, _ = await event_of(ingest, account, media_id)
    assert (event.data.content_type, event.data.media_kind) == (content_type, "video")
    assert event.data.video is not None and event.data.video.video_codec == codec
    assert len(await ingest.objects(account, "posters")) == 1


@pytest.mark.parametrize("data", [
    clip(container="mp4", seconds=1, size=(160, 120))[:5000],  # truncated: no moov box
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + os.urandom(8192),  # junk
], ids=["truncated", "junk"])
async def test_truncated_or_junk_videos_are_refused_with_422_and_nothing_kept(ingest, data):
    account = await ingest.opted_in_user()
    response = await ingest.upload(account, data)
    assert response.status_code == 422, response.text
    assert detail(response)["code"] == "invalid_video"
    assert "corrupt or truncated" in detail(response)["message"]
    assert await ingest.store.list_keys(f"users/{ingest.user_key(account)}/") == []
    assert await ingest.sql("SELECT 1 FROM media WHERE user_key = $1",
                            ingest.user_key(account)) == []


async def test_a_video_is_a_duplicate_the_second_time(ingest):
    account = await ingest.opted_in_user()
    data = clip(container="webm", codec="vp9", seconds=0.5, size=(64, 48), seed=3)
    first = await uploaded(ingest, account, data)
    again = await ingest.upload(account, data)
    assert again.status_code == 200 and again.json()["media_id"] == first
    assert len(await ingest.objects(account, "posters")) == 1


async def test_a_presigned_video_is_validated_and_gets_its_poster(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    data = clip(container="mov", codec="h264", seconds=1, size=(160, 120), audio=True)
    upload = await start(ingest, account, {"device": "iPhone"})
    await put(upload["url"], data)

    response = await complete(ingest, account, upload["upload_id"])

    assert response.status_code == 201, response.text
    media_id = response.json()["media_id"]
    assert await ingest.objects(account) == [f"users/{key}/media/{media_id}"]
    assert await ingest.objects(account, "posters") == [f"users/{key}/posters/{media_id}.jpg"]
    assert await ingest.objects(account, "uploads") == []
    event, _ = await event_of(ingest, account, media_id)
    assert event.data.media_kind == "video" and event.data.device == "iPhone"
    assert event.data.video is not None and event.data.video.has_audio


async def test_a_truncated_presigned_video_is_refused_and_removed(ingest):
    account = await ingest.opted_in_user()
    upload = await start(ingest, account)
    await put(upload["url"], clip(container="mp4", seconds=1, size=(160, 120))[:4000])
    response = await complete(ingest, account, upload["upload_id"])
    assert response.status_code == 422 and detail(response)["code"] == "invalid_video"
    assert await ingest.store.list_keys(f"users/{ingest.user_key(account)}/") == []


async def test_deleting_a_video_then_its_erasure_removes_clip_and_poster(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    gone = await uploaded(ingest, account, clip(container="mp4", seconds=0.5, seed=5))
    kept = await uploaded(ingest, account, photos.jpeg())
    deleted = await ingest.client.delete(f"/v1/media/{gone}", headers=ingest.headers(account))
    assert deleted.status_code == 204

    await publish_as(ingest, Service.policy, MEDIA_ERASED, erased(key, [gone]), key)

    async def only_the_photo_left() -> bool:
        return await ingest.store.list_keys(f"users/{key}/") == [f"users/{key}/media/{kept}"]

    await eventually(only_the_photo_left, "the video and its poster to be erased")
    [row] = await ingest.sql("SELECT * FROM media WHERE media_id = $1", uuid.UUID(gone))
    assert row["state"] == "erased"
    assert all(row[c] is None for c in ("poster_key", "media_kind", "duration_s",
                                        "video_codec", "gps_latitude"))


async def test_account_erasure_removes_every_poster(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    media_id = await uploaded(ingest, account, clip(container="webm", codec="vp9",
                                                    seconds=0.5, seed=7))
    await uploaded(ingest, account, clip(container="mkv", seconds=0.5, seed=8))
    assert len(await ingest.objects(account, "posters")) == 2

    await publish_as(ingest, Service.policy, MEDIA_ERASED,
                     erased(key, [media_id], ErasureReason.account_erasure), key)

    async def nothing_left() -> bool:
        return await ingest.store.list_keys(f"users/{key}/") == []

    await eventually(nothing_left, "every object of the account to be erased")
