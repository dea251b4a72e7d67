"""Exactly once: every candidate is decided exactly once on the training topics (read
committed), across a SIGKILL in the middle of a stream and across crashes placed exactly
between the database commit and the Kafka commit, and just after the Kafka commit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from gemroll_contracts import (
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    TrainingCandidate,
)
from gemroll_dev.testkit import committed_offsets
from gemroll_policy.testing import action, candidate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


LATER = datetime.now(UTC) + timedelta(hours=1)


def workload(policy, n: int, tag: str) -> tuple[list, list[TrainingCandidate], set[uuid.UUID]]:
    """Half the candidates belong to users who shared the media (admitted), half to users who
    opted out of training (rejected): every one of them gets a decision."""
    sharers = [policy.user_key(f"{tag}-in-{i}") for i in range(10)]
    opted_out = [policy.user_key(f"{tag}-out-{i}") for i in range(10)]
    actions, candidates = [], []
    for i in range(n):
        media = uuid.uuid4()
        if i % 2 == 0:
            user = sharers[i % 10]
            # shared after the opt-in (set_consents runs later): evidence under that consent
            actions.append(action(user, media, ActionKind.shared, acted_at=LATER))
        else:
            user = opted_out[i % 10]
        candidates.append(candidate(user, media))
    return actions, candidates, {uuid.UUID(policy.training_id(c.data.candidate_id))
                                 for c in candidates}


async def set_consents(client: httpx.AsyncClient, policy, tag: str) -> None:
    for i in range(10):
        for account, body in ((f"{tag}-in-{i}", {"camera_roll": True}),
                              (f"{tag}-out-{i}", {"camera_roll": True,
                                                  "training_opt_out": True})):
            response = await client.put("/v1/consent", json=body,
                                        headers=policy.headers(account))
            assert response.status_code == 200, response.text


async def decisions_by_candidate(policy, expected: int) -> Counter:
    values = await policy.read(TRAINING_MEDIA, count=1, timeout_s=5)
    values += await policy.read(TRAINING_DECISIONS, count=1, timeout_s=5)
    kinds = Counter(json.loads(v)["event_type"] for v in values)
    assert kinds["training.retracted"] == 0, kinds
    return Counter(uuid.UUID(json.loads(v)["data"]["candidate_id"]) for v in values)


async def quiescent(policy, wait_until) -> None:
    """The gate has consumed everything and published its whole outbox."""
    async def done() -> bool:
        [row] = await policy.query("SELECT count(*) AS n FROM outbox")
        if row["n"]:
            return False
        group = f"{policy.settings.consumer_group}{policy.env.suffix}"
        for topic in (TRAINING_CANDIDATES, USER_ACTIONS):
            committed = await committed_offsets(policy.env.kafka.bootstrap_servers, group,
                                                policy.env.topic(topic))
            ends = await end_offsets(policy, policy.env.topic(topic))
            if any((committed.get(p) or 0) < end for p, end in ends.items()):
                return False
        return True

    await wait_until(done, timeout_s=60, every_s=0.5)


async def end_offsets(policy, topic: str) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=policy.env.kafka.bootstrap_servers)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp.partition: end for tp, end in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """`uvicorn --factory gemroll_policy.app:create_app` in its own process."""

    def __init__(self, policy, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMROLL_", "KAFKA_"))}
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": policy.env.kafka.bootstrap_servers,
            "KAFKA_TOPIC_SUFFIX": policy.env.suffix,
            "DATABASE_URL": policy.env.database.url.get_secret_value(),
            "S3_ENDPOINT": policy.env.s3.endpoint,
            "S3_ACCESS_KEY": policy.env.s3.access_key.get_secret_value(),
            "S3_SECRET_KEY": policy.env.s3.secret_key.get_secret_value(),
            "S3_BUCKET": policy.env.s3.bucket,
            "GEMROLL_POLICY_DB_SCHEMA": policy.schema,
            "GEMROLL_POLICY_BATCH_MAX_RECORDS": "100",  # many transactions: many kill points
            "PYTHONUNBUFFERED": "1",
            "GEMROLL_ENV": "development",  # the built-in development token secret
        })
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "gemroll_policy.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    async def ready(self, wait_until) -> None:
        async def answers() -> bool:
            assert self.process and self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{self.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(answers, timeout_s=90, every_s=0.3)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def test_sigkill_mid_stream_decides_every_candidate_exactly_once(policy, wait_until,
                                                                       tmp_path):
    n = 3000
    actions, candidates, ids = workload(policy, n, "kill")
    await policy.put_sources(candidates[::2])  # the admitted half (even: sharers)
    service = ServiceProcess(policy, tmp_path / "policy.log")
    service.start()
    try:
        await service.ready(wait_until)
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
            await set_consents(client, policy, "kill")
        await policy.produce(USER_ACTIONS, actions)

        first, rest = candidates[:1200], candidates[1200:]
        # upstream is at-least-once: some candidates arrive twice
        await policy.produce(TRAINING_CANDIDATES, first + first[:150])

        async def some_decided() -> int:
            [row] = await policy.query(
                "SELECT count(*) AS n FROM candidates WHERE status <> 'pending'")
            return row["n"] >= 300 and row["n"]

        decided_at_kill = await wait_until(some_decided, timeout_s=60, every_s=0.02)
        service.kill()
        assert decided_at_kill < n  # killed in the middle of the stream

        await policy.produce(TRAINING_CANDIDATES, rest + rest[-150:])
        service.start()
        await service.ready(wait_until)
        await quiescent(policy, wait_until)
    finally:
        service.stop()

    counts = await decisions_by_candidate(policy, n)
    assert set(counts) == ids
    assert {c for c, k in counts.items() if k != 1} == set()
    rows = await policy.query("SELECT status, count(*) AS n FROM candidates GROUP BY status")
    assert {r["status"]: r["n"] for r in rows} == {"admitted": n // 2, "rejected": n // 2}


class SimulatedCrash(BaseException):
    """Stops the gate dead at a checkpoint, like a kill (no clean-up in the loop)."""


@pytest.mark.parametrize("window", ["after_db_commit", "after_kafka_commit"])
async def test_crash_windows_neither_lose_nor_repeat_decisions(policy, wait_until, window):
    n = 600
    actions, candidates, ids = workload(policy, n, window)
    await policy.put_sources(candidates[::2])  # the admitted half (even: sharers)
    settings = policy.settings.model_copy(update={"batch_max_records": 50})
    crashed = asyncio.Event()
    passes = 0

    def checkpoint(name: str) -> None:
        nonlocal passes
        if name == window:
            passes += 1
            if passes == 4:  # a few batches in: some decisions out, some not
                crashed.set()
                raise SimulatedCrash(name)

    app = policy.app(settings=settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await set_consents(client, policy, window)
        await policy.produce(USER_ACTIONS, actions)

        async def actions_stored() -> bool:
            [row] = await policy.query("SELECT count(*) AS n FROM actions")
            return row["n"] == len(actions)

        await wait_until(actions_stored)
    await policy.produce(TRAINING_CANDIDATES, candidates)  # every batch below decides

    app = policy.app(settings=settings, checkpoint=checkpoint)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(crashed.wait(), 60)
        [row] = await policy.query("SELECT count(*) AS n FROM candidates "
                                   "WHERE status <> 'pending'")
        assert 0 < row["n"] < n
        [outbox] = await policy.query("SELECT count(*) AS n FROM outbox")
        assert outbox["n"] > 0  # decided in the database, not yet gone from the outbox

    app = policy.app(settings=settings)
    async with app.router.lifespan_context(app):
        await quiescent(policy, wait_until)

    counts = await decisions_by_candidate(policy, n)
    assert set(counts) == ids
    assert {c for c, k in counts.items() if k != 1} == set()
