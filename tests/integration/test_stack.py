"""The local stack: real Kafka, PostgreSQL and S3, and its up / up / down life cycle."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from gemroll_contracts import ALL_TOPICS, CONSENT
from gemroll_dev.stack import StackConfig, StackEndpoints
from gemroll_dev.stack.config import read_env_file
from gemroll_dev.stack.control import prune_topics, up_async
from gemroll_dev.stack.kafka import delete_topics, ensure_topics, isolated_suffix
from gemroll_dev.stack.s3 import client as s3_client
from gemroll_dev.stack.services import SERVICES
from gemroll_testkit import eventually
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate, prune_isolated

SERVICE_NAMES = [factory.__name__ for factory in SERVICES]

pytestmark = pytest.mark.integration

ENV_KEYS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
)


async def _create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _listed(bootstrap: str, names: set[str], *, listed: bool = True) -> None:
    """Until the broker's metadata lists all `names` (or none): it follows a creation or a
    deletion a moment later."""
    async def check() -> bool:
        found = names & await _topics(bootstrap)
        return found == names if listed else not found

    await eventually(check, f"{len(names)} topics to be {'listed' if listed else 'gone'}")


async def _read(bootstrap: str, topic: str, count: int, **consumer_args: object) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **consumer_args,
    )
    await consumer.start()
    records: list = []
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            records += [r for batch in batches.values() for r in batch]
            if len(records) >= count:
                break
    finally:
        await consumer.stop()
    return records


async def test_contract_topics_exist_with_their_config(stack: StackEndpoints) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics()}
        for topic in ALL_TOPICS:
            assert len(described[topic.name]["partitions"]) == topic.partitions, topic.name
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, CONSENT.name)]
        )
        entries = {e[0]: e[1] for e in response.resources[0][4]}
        assert entries["cleanup.policy"] == "compact"
        assert entries["retention.ms"] == "-1"
    finally:
        await admin.close()


async def test_kafka_produce_consume_round_trip(stack: StackEndpoints, unique: str) -> None:
    topic = f"test.stack.plain.{unique}"
    await _create_topic(stack.kafka_bootstrap, topic)
    try:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"hello", key=b"user-1")
        finally:
            await producer.stop()
        [record] = await _read(stack.kafka_bootstrap, topic, 1, group_id=f"g-{unique}")
        assert (record.key, record.value) == (b"user-1", b"hello")
    finally:
        await delete_topics(stack.kafka_bootstrap, [topic])


async def test_kafka_transactions_read_committed(stack: StackEndpoints, unique: str) -> None:
    topic = f"test.stack.tx.{unique}"
    await _create_topic(stack.kafka_bootstrap, topic)
    try:
        producer = AIOKafkaProducer(
            bootstrap_servers=stack.kafka_bootstrap, transactional_id=f"test-stack-{unique}"
        )
        await producer.start()
        try:
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"aborted", key=b"k")
            await producer.abort_transaction()
            async with producer.transaction():
                await producer.send(topic, b"committed-1", key=b"k")
                await producer.send(topic, b"committed-2", key=b"k")
        finally:
            await producer.stop()
        records = await _read(stack.kafka_bootstrap, topic, 2, isolation_level="read_committed")
        assert [r.value for r in records] == [b"committed-1", b"committed-2"]
        uncommitted = await _read(
            stack.kafka_bootstrap, topic, 3, isolation_level="read_uncommitted"
        )
        assert b"aborted" in [r.value for r in uncommitted]
    finally:
        await delete_topics(stack.kafka_bootstrap, [topic])


async def test_drop_isolated_deletes_the_envs_topics(stack: StackEndpoints, unique: str) -> None:
    env = await isolate(stack, unique)
    await _listed(stack.kafka_bootstrap, env.topic_names())
    await drop_isolated(env)
    await _listed(stack.kafka_bootstrap, env.topic_names(), listed=False)
    assert await delete_topics(stack.kafka_bootstrap, env.topic_names()) == []  # gone already: fine


async def test_prune_deletes_what_killed_runs_left_and_nothing_else(
    stack: StackEndpoints, isolated_env: Isolated, unique: str
) -> None:
    bootstrap = stack.kafka_bootstrap
    left = isolated_suffix(uuid.uuid4().hex[:8])  # a killed run's, created in another process
    await ensure_topics(bootstrap, ALL_TOPICS, suffix=left)
    leftovers = {t.name + left for t in ALL_TOPICS}
    soak_like = f"{CONSENT.name}.r{unique}"  # the soak's suffix (PipelineConfig.suffix)
    await _create_topic(bootstrap, soak_like)
    try:
        await _listed(bootstrap, leftovers | isolated_env.topic_names() | {soak_like})
        assert leftovers <= set(prune_topics(env=stack.as_env(), dry_run=True))
        deleted = set(await prune_isolated(stack))
        assert leftovers <= deleted
        assert not deleted & (isolated_env.topic_names() | {soak_like})
        await _listed(bootstrap, leftovers, listed=False)
        assert {t.name for t in ALL_TOPICS} | isolated_env.topic_names() | {soak_like} <= (
            await _topics(bootstrap))
    finally:
        await delete_topics(bootstrap, [soak_like])


async def test_postgres_query(stack: StackEndpoints, unique: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(stack.database_url)
    schema = f"test_{unique}"
    try:
        assert await conn.fetchval("SELECT current_user") == "gemroll"
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"CREATE TABLE {schema}.t (id int primary key, v text)")
        await conn.execute(f"INSERT INTO {schema}.t VALUES ($1, $2)", 1, "one")
        assert await conn.fetchval(f"SELECT v FROM {schema}.t WHERE id = 1") == "one"
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


def test_s3_put_get_and_presigned_put(stack: StackEndpoints, unique: str) -> None:
    s3 = s3_client(stack)
    assert s3.bucket_exists(stack.s3_bucket)
    key = f"test/{unique}/direct.bin"
    s3.put_object(stack.s3_bucket, key, io.BytesIO(b"direct"), 6)
    assert s3.get_object(stack.s3_bucket, key).read() == b"direct"

    presigned_key = f"test/{unique}/presigned.bin"
    url = s3.presigned_put_object(stack.s3_bucket, presigned_key, expires=timedelta(minutes=5))
    response = httpx.put(url, content=b"via presigned url")
    assert response.status_code == 200, response.text
    assert s3.get_object(stack.s3_bucket, presigned_key).read() == b"via presigned url"
    assert httpx.get(f"{stack.s3_endpoint}/{stack.s3_bucket}/{key}").status_code == 403

    bucket = f"test-{unique}"
    s3.make_bucket(bucket)
    assert s3.bucket_exists(bucket)
    s3.remove_bucket(bucket)
    for name in (key, presigned_key):
        s3.remove_object(stack.s3_bucket, name)


async def test_external_endpoints_start_nothing(stack: StackEndpoints, tmp_path: Path) -> None:
    cfg = StackConfig.load(run_dir=tmp_path / "run", kafka_port=1, postgres_port=2, s3_port=3)
    result = await up_async(cfg, env=stack.as_env())
    assert result.external and result.started == ()
    assert result.endpoints == stack
    assert read_env_file(cfg.env_file) == stack.as_env()
    assert not cfg.pid_dir.exists()


# -- a second, isolated stack ------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if text in cmdline and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_second_isolated_stack_up_up_down(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # Below 32768: Linux hands out ports above it to outgoing connections.
    ports = {"--kafka-port": "27092", "--postgres-port": "27432", "--s3-port": "27333"}
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}

    def cli(command: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "gemroll_dev.stack", command, "--run-dir", str(run_dir)]
        for flag, value in ports.items():
            argv += [flag, value]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)

    def recorded_pids() -> dict[str, int]:
        return {
            p.stem: json.loads(p.read_text())["pid"]
            for p in sorted((run_dir / "pids").glob("*.pid"))
        }

    try:
        first = cli("up")
        assert first.returncode == 0, first.stderr
        pids = recorded_pids()
        assert set(pids) == {"kafka", "postgres", "s3", *SERVICE_NAMES}
        assert all(_alive(pid) for pid in pids.values())

        second = cli("up")
        assert second.returncode == 0, second.stderr
        assert recorded_pids() == pids
        assert second.stderr.count("already running") == len(pids)

        values = read_env_file(run_dir / "stack.env")
        assert values["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:27092"
        assert values["DATABASE_URL"].startswith("postgresql://gemroll:")
        assert values["DATABASE_URL"].endswith("@127.0.0.1:27432/gemroll")
        assert values["S3_ENDPOINT"] == "http://127.0.0.1:27333"
        assert values["S3_ACCESS_KEY"] and values["S3_SECRET_KEY"]
        assert values["S3_BUCKET"] == "gemroll-media"
        for name in SERVICE_NAMES:
            assert values[f"{name.upper()}_URL"].startswith("http://127.0.0.1:")
        assert first.stdout.splitlines() == (run_dir / "stack.env").read_text().splitlines()
        assert cli("status").returncode == 0

        postmaster = int((run_dir / "data/postgres/postmaster.pid").read_text().split()[0])
        watched = [*pids.values(), postmaster]
    finally:
        stopped = cli("down")
    assert stopped.returncode == 0, stopped.stderr
    assert not list((run_dir / "pids").glob("*.pid"))
    assert [pid for pid in watched if _alive(pid)] == []
    assert _processes_mentioning(str(run_dir)) == []
    assert cli("status").returncode == 1
