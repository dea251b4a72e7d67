"""The transactional outbox: uploads are accepted while Kafka is unreachable and announced
exactly once when it is back; a failed write leaves no orphan object or row."""

from __future__ import annotations

import asyncio
import socket
import uuid
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from gemroll_contracts import MEDIA_UPLOADED, MediaUploaded, utcnow
from gemroll_dev.bench import ingest_samples as samples
from gemroll_ingest import metrics

from .conftest import drop_schema, eventually, ready, running_ingest

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def seed_consent(harness, account: str) -> None:
    """Kafka is unreachable for this instance, so the projection is seeded directly."""
    await harness.sql(
        "INSERT INTO consent (user_key, camera_roll, training_opt_out, ledger_seq, changed_at)"
        " VALUES ($1, true, false, 1, $2)", harness.user_key(account), utcnow())


async def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


@pytest.fixture
async def env(stack, unique):
    from gemroll_dev.testkit import isolate

    isolated = await isolate(stack, unique)
    yield isolated
    await drop_schema(isolated, f"ingest{isolated.schema_suffix}")


async def test_upload_while_kafka_is_unreachable_is_announced_once_it_is_back(env):
    unreachable = env.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    account = f"acct-{uuid.uuid4().hex[:12]}"
    failures_before = metrics.RELAY_FAILURES._value.get()

    async with running_ingest(env, kafka=unreachable) as down:
        await seed_consent(down, account)
        response = await down.upload(account, samples.jpeg())
        assert response.status_code == 201, response.text
        media_id = response.json()["media_id"]
        [row] = await down.sql("SELECT event_type, published_at FROM outbox")
        assert (row["event_type"], row["published_at"]) == ("media.uploaded", None)
        await eventually(lambda: _async(metrics.RELAY_FAILURES._value.get() > failures_before))
        assert (await down.client.get("/readyz")).json()["checks"]["kafka"] is False
        assert await end_offsets(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED)) == 0
        metrics_text = (await down.client.get("/metrics")).text
        assert "gemroll_ingest_outbox_pending 1.0" in metrics_text

    async with running_ingest(env) as back:  # same schema, reachable Kafka
        events = await back.events(MEDIA_UPLOADED, account)
        assert [str(e.data.media_id) for e in events] == [media_id]
        await eventually(lambda: back.sql(
            "SELECT 1 FROM outbox WHERE published_at IS NOT NULL"))
        assert await back.sql("SELECT 1 FROM outbox WHERE published_at IS NULL") == []
        item = (await back.client.get(f"/v1/media/{media_id}",
                                      headers=back.headers(account))).json()
        assert item["pipeline"]["stage"] == "announced"
        # A restart republishes nothing.
        later = await back.upload(account, samples.jpeg())
        values = await back.raw_events(MEDIA_UPLOADED, account, count=2)
        assert [str(MediaUploaded.from_json(v).data.media_id) for v in values] == [
            media_id, later.json()["media_id"]]


async def _async(value):
    return value


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
    failures_before = metrics.RELAY_FAILURES._value.get()
    async with running_ingest(env, kafka=later) as harness:
        await seed_consent(harness, account)
        media_id = (await harness.upload(account, samples.jpeg())).json()["media_id"]
        await eventually(lambda: _async(metrics.RELAY_FAILURES._value.get() > failures_before))
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

        response = await harness.upload(account, samples.jpeg())

        assert response.status_code == 503
        assert response.json()["detail"]["code"] == "storage_unavailable"
        assert await harness.objects(account) == []
        assert await harness.sql("SELECT 1 FROM media") == []
        assert await harness.sql("SELECT 1 FROM outbox") == []

        await harness.sql("DROP TRIGGER refuse ON outbox")
        assert (await harness.upload(account, samples.jpeg())).status_code == 201
