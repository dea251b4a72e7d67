"""The transactional outbox: uploads are accepted while Kafka is unreachable and announced
exactly once when it is back; a failed write leaves no orphan object or row."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import pytest
from gemroll_common.outbox import OUTBOX_FAILURES
from gemroll_contracts import MEDIA_UPLOADED, MediaUploaded, utcnow
from gemroll_testkit import eventually, photos
from gemroll_testkit.processes import free_port
from gemroll_testkit.topics import end_offsets

from .conftest import drop_schema, ready, running_ingest

pytestmark = pytest.mark.integration


async def seed_consent(harness, account: str) -> None:
    """Kafka is unreachable for this instance, so the projection is seeded directly."""
    await harness.sql(
        "INSERT INTO consent (user_key, camera_roll, training_opt_out, ledger_seq, changed_at)"
        " VALUES ($1, true, false, 1, $2)", harness.user_key(account), utcnow())


@pytest.fixture
async def env(isolated_env):
    yield isolated_env
    await drop_schema(isolated_env, f"ingest{isolated_env.schema_suffix}")


async def test_upload_while_kafka_is_unreachable_is_announced_once_it_is_back(env):
    unreachable = env.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    account = f"acct-{uuid.uuid4().hex[:12]}"
    failures_before = relay_failures()

    async with running_ingest(env, kafka=unreachable) as down:
        await seed_consent(down, account)
        response = await down.upload(account, photos.jpeg())
        assert response.status_code == 201, response.text
        media_id = response.json()["media_id"]
        [row] = await down.sql("SELECT event_type, subject_id FROM outbox")
        assert (row["event_type"], str(row["subject_id"])) == ("media.uploaded", media_id)
        await eventually(lambda: _async(relay_failures() > failures_before))
        assert (await down.client.get("/readyz")).json()["checks"]["kafka"] is False
        ends = await end_offsets(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED))
        assert sum(ends.values()) == 0
        metrics_text = (await down.client.get("/metrics")).text
        assert 'gemroll_outbox_pending{service="ingest"} 1.0' in metrics_text

    async with running_ingest(env) as back:  # same schema, reachable Kafka
        events = await back.events(MEDIA_UPLOADED, account)
        assert [str(e.data.media_id) for e in events] == [media_id]
        # Deleted once Kafka has it; the same transaction marks the media announced.
        await eventually(lambda: _async_none(back.sql("SELECT 1 FROM outbox")))
        item = (await back.client.get(f"/v1/media/{media_id}",
                                      headers=back.headers(account))).json()
        assert item["pipeline"]["stage"] == "announced"
        # A restart republishes nothing.
        later = await back.upload(account, photos.jpeg())
        values = await back.raw_events(MEDIA_UPLOADED, account, count=2)
        assert [str(MediaUploaded.from_json(v).data.media_id) for v in values] == [
            media_id, later.json()["media_id"]]


def relay_failures() -> float:
    return OUTBOX_FAILURES.labels("ingest")._value.get()


async def _async(value):
    return value


async def _async_none(rows) -> bool:
    return await rows == []


@asynccontextmanager
async def tcp_proxy(port: int, target_port: int):
    """Forwards 127.0.0.1:port to the broker: Kafka "comes back" when this starts."""

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def test_one_instance_keeps_retrying_until_kafka_answers(env):
    """The same process: Kafka unreachable at startup, reachable later."""
    port = free_port()
    later = env.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{port}"})
    account = f"acct-{uuid.uuid4().hex[:12]}"
    failures_before = relay_failures()
    async with running_ingest(env, kafka=later) as harness:
        await seed_consent(harness, account)
        media_id = (await harness.upload(account, photos.jpeg())).json()["media_id"]
        await eventually(lambda: _async(relay_failures() > failures_before))
        target = int(env.kafka.bootstrap_servers.rsplit(":", 1)[1])
        async with tcp_proxy(port, target):
            events = await harness.events(MEDIA_UPLOADED, account, count=1)
            assert [str(e.data.media_id) for e in events] == [media_id]
            await eventually(lambda: ready(harness.client))


async def test_failed_record_write_leaves_no_object_and_no_row(env):
    async with running_ingest(env) as harness:
        account = await harness.opted_in_user()
        await harness.sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                          " $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$")
        await harness.sql("CREATE TRIGGER refuse BEFORE INSERT ON outbox"
                          " FOR EACH ROW EXECUTE FUNCTION refuse()")

        response = await harness.upload(account, photos.jpeg())

        assert response.status_code == 503
        assert response.json()["detail"]["code"] == "storage_unavailable"
        assert await harness.objects(account) == []
        assert await harness.sql("SELECT 1 FROM media") == []
        assert await harness.sql("SELECT 1 FROM outbox") == []

        await harness.sql("DROP TRIGGER refuse ON outbox")
        assert (await harness.upload(account, photos.jpeg())).status_code == 201
