"""The video limits on the real stack, set low through the settings: over-duration (422),
over-size (413, direct and presigned, while photos keep their own limit) and codecs the
ingest does not take (415). Nothing of a refused clip is kept."""

from __future__ import annotations

import uuid

import pytest
from gemroll_testkit import clips, eventually, photos
from gemroll_testkit.clips import clip
from gemroll_testkit.isolation import drop_isolated, isolate
from PIL import Image

from .conftest import MB, drop_schema, ready, running_ingest
from .test_ingest_presigned import complete, put, start
from .test_ingest_uploads import detail

pytestmark = pytest.mark.integration

MAX_VIDEO_BYTES = 64 * 1024
MAX_DURATION_S = 1.5


@pytest.fixture(scope="module")
async def limited(stack):
    env = await isolate(stack, uuid.uuid4().hex[:8])
    async with running_ingest(env, max_upload_bytes=4 * MB, max_video_bytes=MAX_VIDEO_BYTES,
                              max_video_duration_s=MAX_DURATION_S) as harness:
        await eventually(lambda: ready(harness.client), "the ingest to be ready")
        yield harness
    await drop_schema(env, harness.schema)
    await drop_isolated(env)


async def nothing_kept(harness, account: str) -> bool:
    key = harness.user_key(account)
    return (await harness.store.list_keys(f"users/{key}/") == []
            and await harness.sql("SELECT 1 FROM media WHERE user_key = $1", key) == [])


async def test_a_video_over_the_duration_limit_is_refused_with_422(limited):
    account = await limited.opted_in_user()
    response = await limited.upload(account, clip(container="mp4", seconds=2, size=(64, 48)))
    assert response.status_code == 422, response.text
    assert detail(response)["code"] == "video_too_long"
    assert "limit is 1.5 s" in detail(response)["message"]
    assert await nothing_kept(limited, account)
    short = await limited.upload(account, clip(container="mp4", seconds=1, size=(64, 48)))
    assert short.status_code == 201, short.text


def noisy_clip() -> bytes:
    """A short clip larger than the video limit (noise does not compress)."""
    return clip(container="mkv", seconds=1, size=(640, 480), picture=Image.effect_noise(
        (960, 720), 120).convert("RGB"), fps=10)


async def test_a_video_over_the_size_limit_is_refused_with_413_photos_keep_theirs(limited):
    account = await limited.opted_in_user()
    data = noisy_clip()
    assert len(data) > MAX_VIDEO_BYTES
    response = await limited.upload(account, data)
    assert response.status_code == 413, response.text
    assert detail(response)["code"] == "too_large"
    assert f"video is larger than the limit of {MAX_VIDEO_BYTES} bytes" in (
        detail(response)["message"])
    assert await nothing_kept(limited, account)
    photo = photos.jpeg_of_size(2 * MAX_VIDEO_BYTES)  # the photo limit is 4 MiB
    assert len(photo) > MAX_VIDEO_BYTES
    assert (await limited.upload(account, photo)).status_code == 201


async def test_a_presigned_video_over_the_size_limit_is_refused_with_413(limited):
    account = await limited.opted_in_user()
    upload = await start(limited, account)
    await put(upload["url"], noisy_clip())
    response = await complete(limited, account, upload["upload_id"])
    assert response.status_code == 413 and detail(response)["code"] == "too_large"
    assert await nothing_kept(limited, account)


async def test_a_codec_the_ingest_does_not_take_is_refused_with_415(limited):
    account = await limited.opted_in_user()
    response = await limited.upload(account, clips.mpeg4_clip())
    assert response.status_code == 415, response.text
    assert detail(response)["code"] == "unsupported_codec"
    assert "H.264, HEVC, VP9 or AV1" in detail(response)["message"]
    assert await nothing_kept(limited, account)
