"""A 1 GiB video through the presigned path on the real stack, with the default limits: the
client PUTs it straight to the object store from a file, `/complete` takes it in, and the
ingest never holds it in memory (Python's own allocations, traced while it completes, stay a
small fraction of the file)."""

from __future__ import annotations

import struct
import tracemalloc
import uuid

import httpx
import pytest
from gemroll_testkit import eventually
from gemroll_testkit.clips import clip
from gemroll_testkit.isolation import drop_isolated, isolate

from .conftest import drop_schema, ready, running_ingest
from .test_ingest_presigned import complete, start

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GIB = 1024**3
CHUNK = 8 * 1024 * 1024


@pytest.fixture(scope="module")
async def ingest(stack):
    env = await isolate(stack, uuid.uuid4().hex[:8])
    async with running_ingest(env) as harness:  # the defaults: 2 GiB, 10 minutes
        await eventually(lambda: ready(harness.client), "the ingest to be ready")
        yield harness
    await drop_schema(env, harness.schema)
    await drop_isolated(env)


def gib_video(path) -> int:
    """A playable MP4 (index first) padded to 1 GiB with a `free` box, written a chunk at a
    time."""
    head = clip(container="mp4", seconds=2, size=(320, 240), options={"movflags": "faststart"})
    padding = GIB - len(head)
    with open(path, "wb") as out:
        out.write(head)
        out.write(struct.pack(">I", padding) + b"free")
        left, zeros = padding - 8, bytes(CHUNK)
        while left > 0:
            left -= out.write(zeros[:min(CHUNK, left)])
    return GIB


async def put_file(url: str, path, size: int) -> None:
    async def chunks():
        with open(path, "rb") as source:  # noqa: ASYNC230 - a test's sequential read
            while block := source.read(CHUNK):
                yield block

    async with httpx.AsyncClient(timeout=600) as s3:
        response = await s3.put(url, content=chunks(), headers={"Content-Length": str(size)})
    assert response.status_code == 200, response.text


async def test_a_gib_video_is_taken_in_through_the_presigned_path_without_memory(
        ingest, tmp_path):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    path = tmp_path / "long.mp4"
    size = gib_video(path)
    upload = await start(ingest, account, {"device": "Camera"})
    await put_file(upload["url"], path, size)
    path.unlink()

    tracemalloc.start()
    try:
        response = await complete(ingest, account, upload["upload_id"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.text
    media_id = response.json()["media_id"]
    assert peak < 64 * 1024**2, f"{peak / 1024**2:.0f} MiB traced while completing"
    stored = await ingest.store.stat(f"users/{key}/media/{media_id}")
    assert stored is not None and stored.size == GIB
    assert await ingest.objects(account, "posters") == [f"users/{key}/posters/{media_id}.jpg"]
    assert await ingest.objects(account, "uploads") == []
