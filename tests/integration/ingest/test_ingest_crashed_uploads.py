"""An upload whose request dies while storing (a killed pod, a cut connection) must not block
the same photo: the retry is told "in progress, retry" (503) while the dead request's lease
could still be renewed, then takes the claim over. Afterwards the store and the database hold
the photo exactly once, and the janitor leaves nothing of the dead request behind.

The request is made to die by cancelling it while its object write waits on a gate (the real
S3 write runs once the gate opens); the ingest, PostgreSQL, S3 and Kafka are the real ones."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from gemroll_contracts import MEDIA_UPLOADED
from gemroll_ingest.adapters.storage import S3BlobStore
from gemroll_testkit import eventually
from gemroll_testkit.isolation import drop_isolated, isolate
from gemroll_testkit.photos import shot

from .conftest import drop_schema, ready, running_ingest

pytestmark = pytest.mark.integration

LEASE_S = 3.0


@pytest.fixture(scope="module")
async def leased(stack):
    env = await isolate(stack, uuid.uuid4().hex[:8])
    async with running_ingest(env, reservation_lease_s=LEASE_S) as harness:
        await eventually(lambda: ready(harness.client), "the ingest to be ready")
        yield harness
    await drop_schema(env, harness.schema)
    await drop_isolated(env)


@pytest.fixture
def held_writes(monkeypatch):
    """Object writes wait until `release` is set; `waiting` is set when one is held."""
    waiting, release = asyncio.Event(), asyncio.Event()
    real_put = S3BlobStore.put_file

    async def held_put(self, *args, **kwargs):  # noqa: ANN001, ANN202
        waiting.set()
        await release.wait()
        return await real_put(self, *args, **kwargs)

    monkeypatch.setattr(S3BlobStore, "put_file", held_put)
    return waiting, release


async def media_rows(ingest, account: str) -> dict[str, int]:
    rows = await ingest.sql(
        f"SELECT state, count(*) AS n FROM {ingest.schema}.media WHERE user_key = $1"
        " GROUP BY state", ingest.user_key(account))
    return {r["state"]: r["n"] for r in rows}


async def die_while_storing(ingest, account: str, photo: bytes, held_writes) -> None:
    waiting, release = held_writes
    request = asyncio.create_task(ingest.upload(account, photo))
    await asyncio.wait_for(waiting.wait(), 30)
    request.cancel()  # the request dies with its reservation taken and no object written
    with pytest.raises(asyncio.CancelledError):
        await request
    release.set()


async def test_a_dead_requests_photo_is_accepted_once_its_lease_runs_out(leased, held_writes):
    account = await leased.opted_in_user()
    photo = shot(0, seed=41).data
    await die_while_storing(leased, account, photo, held_writes)
    assert await media_rows(leased, account) == {"storing": 1}

    early = await leased.upload(account, photo)
    assert early.status_code == 503, early.text
    assert early.json()["detail"]["code"] == "upload_in_progress"
    assert int(early.headers["Retry-After"]) > 0

    async def accepted():
        response = await leased.upload(account, photo)
        assert response.status_code in (201, 503), response.text
        return response if response.status_code == 201 else None

    retried = await eventually(accepted, "the retry to take the claim over",
                               timeout_s=LEASE_S + 10)
    media_id = retried.json()["media_id"]
    assert (await leased.upload(account, photo)).json() == {**retried.json(),
                                                            "status": "duplicate"}

    report = await leased.app.state.janitor.sweep()
    assert report.reservations == 1
    assert await media_rows(leased, account) == {"accepted": 1}
    [key] = await leased.objects(account)
    assert media_id in key
    [event] = await leased.events(MEDIA_UPLOADED, account)
    assert str(event.data.media_id) == media_id


async def test_concurrent_uploads_of_one_photo_store_it_once(leased):
    account = await leased.opted_in_user()
    photo = shot(0, seed=42).data

    async def until_answered() -> tuple[int, str]:
        answers = []
        while True:
            response = await leased.upload(account, photo)
            answers.append(response.status_code)
            assert response.status_code in (200, 201, 503), (answers, response.text)
            if response.status_code != 503:
                return response.status_code, response.json()["media_id"]
            await asyncio.sleep(0.05)

    results = await asyncio.gather(*(until_answered() for _ in range(12)))
    assert sorted(status for status, _ in results) == [200] * 11 + [201]
    assert len({media_id for _, media_id in results}) == 1
    assert await media_rows(leased, account) == {"accepted": 1}
    assert len(await leased.objects(account)) == 1
