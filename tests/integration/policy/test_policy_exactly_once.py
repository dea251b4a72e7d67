"""Exactly once: every candidate is decided exactly once on the training topics (read
committed), across a SIGKILL in the middle of a stream and across crashes placed exactly
between the database commit and the Kafka commit, and just after the Kafka commit."""

from __future__ import annotations

import asyncio
import json
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
from gemroll_testkit import eventually
from gemroll_testkit.events import action, candidate
from gemroll_testkit.processes import ServiceProcess, free_port
from gemroll_testkit.topics import caught_up

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


async def quiescent(policy) -> None:
    """The gate has consumed everything, made every training copy it queued and published
    its whole outbox."""
    async def done() -> bool:
        [row] = await policy.query("SELECT (SELECT count(*) FROM outbox) "
                                   "+ (SELECT count(*) FROM copy_retries) AS n")
        if row["n"]:
            return False
        group = policy.gate_group
        for topic in (TRAINING_CANDIDATES, USER_ACTIONS):
            if not await caught_up(policy.env.kafka.bootstrap_servers, group,
                                   policy.env.topic(topic)):
                return False
        return True

    await eventually(done, timeout_s=60, every_s=0.5)


def policy_process(policy, log: Path) -> ServiceProcess:
    """The policy service in its own process, on the harness's topics and schema (nothing of
    this process's own GEMROLL_*/KAFKA_* configuration leaks in)."""
    return ServiceProcess("policy", free_port(), {
        **policy.env.as_env(),
        "GEMROLL_POLICY_DB_SCHEMA": policy.schema,
        "GEMROLL_POLICY_BATCH_MAX_RECORDS": "100",  # many transactions: many kill points
        "GEMROLL_POLICY_CONSENT_IN_EFFECT_TIMEOUT_S": "0",  # no other service acts on it
        "PYTHONUNBUFFERED": "1",
        "GEMROLL_ENV": "development",  # the built-in development token secret
    }, log, cwd=ROOT, inherit_config=False)


async def test_sigkill_mid_stream_decides_every_candidate_exactly_once(policy,
                                                                       tmp_path):
    n = 3000
    actions, candidates, ids = workload(policy, n, "kill")
    await policy.put_sources(candidates[::2])  # the admitted half (even: sharers)
    service = policy_process(policy, tmp_path / "policy.log")
    service.start()
    try:
        await service.wait_ready(90)
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

        decided_at_kill = await eventually(some_decided, timeout_s=60, every_s=0.02)
        service.kill()
        assert decided_at_kill < n  # killed in the middle of the stream

        await policy.produce(TRAINING_CANDIDATES, rest + rest[-150:])
        service.start()
        await service.wait_ready(90)
        await quiescent(policy)
    finally:
        service.terminate(20)

    counts = await decisions_by_candidate(policy, n)
    assert set(counts) == ids
    assert {c for c, k in counts.items() if k != 1} == set()
    rows = await policy.query("SELECT status, count(*) AS n FROM candidates GROUP BY status")
    assert {r["status"]: r["n"] for r in rows} == {"admitted": n // 2, "rejected": n // 2}


class SimulatedCrash(BaseException):
    """Stops the gate dead at a checkpoint, like a kill (no clean-up in the loop)."""


@pytest.mark.parametrize("window", ["after_db_commit", "after_kafka_commit"])
async def test_crash_windows_neither_lose_nor_repeat_decisions(policy, window):
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

        await eventually(actions_stored)
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
        await quiescent(policy)

    counts = await decisions_by_candidate(policy, n)
    assert set(counts) == ids
    assert {c for c, k in counts.items() if k != 1} == set()
