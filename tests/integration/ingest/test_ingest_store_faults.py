"""The ingest in front of a slow, throttling and full object store (a fault proxy before the
real S3): uploads still succeed when S3 takes seconds; a SlowDown burst longer than the
client library's own retries answers 503 with Retry-After and the same upload goes through
afterwards, once; a full store answers 507 `storage_full` while reads go on. After each fault
the bucket and the database are scanned: nothing half-written."""

from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import urlsplit

import pytest
from gemroll_common.errors import StoreFull, StoreUnavailable, is_transient
from gemroll_common.storage import ObjectStore
from gemroll_testkit import eventually
from gemroll_testkit.isolation import drop_isolated, isolate
from gemroll_testkit.photos import shot
from gemroll_testkit.s3_faults import s3_fault_proxy

from .conftest import drop_schema, ready, running_ingest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def proxied(stack):
    env = await isolate(stack, uuid.uuid4().hex[:8])
    s3 = urlsplit(env.s3.endpoint)
    async with s3_fault_proxy(s3.hostname, s3.port) as proxy:
        through_proxy = dataclasses.replace(
            env, s3=env.s3.model_copy(update={"endpoint": proxy.endpoint}))
        async with running_ingest(through_proxy) as harness:
            await eventually(lambda: ready(harness.client), "the ingest to be ready")
            harness.direct = ObjectStore(env.s3)
            yield harness, proxy
        await drop_schema(env, harness.schema)
    await drop_isolated(env)


@pytest.fixture(autouse=True)
def no_faults_left(proxied):
    yield
    proxied[1].faults.clear()


async def nothing_half_written(ingest, account: str) -> list[str]:
    """Objects and rows agree: each accepted row has its object, nothing else is stored."""
    rows = await ingest.sql(f"SELECT state, object_key FROM {ingest.schema}.media"
                            " WHERE user_key = $1", ingest.user_key(account))
    assert [r for r in rows if r["state"] != "accepted"] == []
    objects = await ingest.direct.list_keys(f"users/{ingest.user_key(account)}/media/")
    assert sorted(objects) == sorted(r["object_key"] for r in rows)
    return objects


async def test_a_slow_store_still_takes_the_upload(proxied):
    ingest, proxy = proxied
    account = await ingest.opted_in_user()
    proxy.faults.delay_s = 2.0
    response = await ingest.upload(account, shot(0, seed=61).data)
    assert response.status_code == 201, response.text
    assert proxy.faults.seen["delayed"] >= 1
    assert len(await nothing_half_written(ingest, account)) == 1


async def test_a_slow_down_burst_is_retried_or_answered_503_and_nothing_is_doubled(proxied):
    ingest, proxy = proxied
    account = await ingest.opted_in_user()
    photo = shot(0, seed=62).data
    proxy.faults.slow_down(2)  # within the client library's own retries
    first = await ingest.upload(account, photo)
    assert first.status_code == 201, first.text
    assert proxy.faults.seen["slow_down"] == 2

    other = shot(1, seed=62).data
    proxy.faults.slow_down(50)  # longer than they last
    refused = await ingest.upload(account, other)
    assert refused.status_code == 503, refused.text
    assert refused.json()["detail"]["code"] == "storage_unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    assert len(await nothing_half_written(ingest, account)) == 1

    proxy.faults.clear()
    again = await ingest.upload(account, other)
    assert again.status_code == 201, again.text
    assert len(await nothing_half_written(ingest, account)) == 2


async def test_a_full_store_refuses_writes_with_507_and_keeps_serving_reads(proxied):
    ingest, proxy = proxied
    account = await ingest.opted_in_user()
    kept = (await ingest.upload(account, shot(0, seed=63).data)).json()
    [key] = await nothing_half_written(ingest, account)
    proxy.faults.full = True

    for n in range(1, 4):
        refused = await ingest.upload(account, shot(n, seed=63).data)
        assert refused.status_code == 507, refused.text
        detail = refused.json()["detail"]
        assert detail["code"] == "storage_full" and "full" in detail["message"]
        assert int(refused.headers["Retry-After"]) > 0
    assert proxy.faults.seen["full"] >= 3
    assert await nothing_half_written(ingest, account) == [key]

    listed = await ingest.client.get(f"/v1/media/{kept['media_id']}",
                                     headers=ingest.headers(account))
    assert listed.status_code == 200
    through_proxy = ingest.app.state.runtime.require_store()
    assert await through_proxy.get_bytes(key) == await ingest.direct.get_bytes(key)

    with pytest.raises(StoreFull) as full:
        await through_proxy.put_bytes(f"{key}.probe", b"x", "application/octet-stream")
    assert is_transient(full.value) and isinstance(full.value, StoreUnavailable)

    proxy.faults.clear()
    accepted = await ingest.upload(account, shot(1, seed=63).data)
    assert accepted.status_code == 201, accepted.text
    assert len(await nothing_half_written(ingest, account)) == 2
