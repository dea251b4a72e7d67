"""Two gates on one consumer group, one database and one transactional id share the stream,
and the one that publishes is taken away in the middle of it: SIGKILLed in one test, paused
(a zombie that wakes up later and carries on) in the other. Afterwards every candidate was
decided exactly once on the training topics (read committed), both instances decided some,
and the survivor took over the publishing within seconds."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from gemroll_contracts import TRAINING_CANDIDATES, USER_ACTIONS
from gemroll_testkit import eventually
from gemroll_testkit.processes import ServiceProcess, stop_all

from .test_policy_exactly_once import (
    decisions_by_candidate,
    policy_process,
    quiescent,
    set_consents,
    workload,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N = 2000
TAKEOVER_S = 10.0
"""A killed leader's lock goes with its connection; the standby looks every second."""
ZOMBIE_TAKEOVER_S = 45.0
"""A paused leader's lock session, and any writer transaction it left open, end after 15 s
idle (`LOCK_IDLE_LIMIT_S`, `WRITER_IDLE_LIMIT`): about 16 s."""


async def leader_of(gates: list[ServiceProcess]) -> ServiceProcess | None:
    leading = [g for g in gates if await g.metric("gemroll_policy_gate_relay_leading") == 1]
    assert len(leading) <= 1, "two gates publish at once"
    return leading[0] if leading else None


async def decided(policy) -> int:
    [row] = await policy.query("SELECT count(*) AS n FROM candidates WHERE status <> 'pending'")
    return row["n"]


async def run_with_the_leader_taken_away(policy, tmp_path, take_away, takeover_s: float,
                                         bring_back=None) -> None:
    actions, candidates, ids = workload(policy, N, take_away.__name__)
    await policy.put_sources(candidates[::2])  # the admitted half (even: sharers)
    gates = [policy_process(policy, tmp_path / f"policy-{n}.log") for n in "ab"]
    try:
        for gate in gates:
            gate.start()
        for gate in gates:
            await gate.wait_ready(90)
        async with httpx.AsyncClient(base_url=gates[0].url, timeout=10) as client:
            await set_consents(client, policy, take_away.__name__)
        await policy.produce(USER_ACTIONS, actions)
        first, rest = candidates[:N // 2], candidates[N // 2:]
        await policy.produce(TRAINING_CANDIDATES, first + first[:100])  # some arrive twice

        async def both_decide_and_one_leads() -> ServiceProcess | None:
            if not all([await g.metric("gemroll_policy_gate_batches_total") for g in gates]):
                return None
            return await decided(policy) >= N // 8 and await leader_of(gates)

        leader = await eventually(both_decide_and_one_leads,
                                  "both gates to decide and one to publish", timeout_s=60,
                                  every_s=0.05)
        [survivor] = [g for g in gates if g is not leader]
        take_away(leader)
        lost_at = time.monotonic()
        assert await decided(policy) < N  # taken away in the middle of the stream

        await policy.produce(TRAINING_CANDIDATES, rest + rest[-100:])

        async def survivor_leads() -> bool:
            return await survivor.metric("gemroll_policy_gate_relay_leading") == 1

        await eventually(survivor_leads, "the survivor to take the relay over",
                         timeout_s=takeover_s, every_s=0.1)
        print(f"relay taken over {time.monotonic() - lost_at:.1f} s after the leader was "
              f"{take_away.__name__}")
        if bring_back is not None:
            bring_back(leader)  # the zombie wakes up mid-work and carries on
        await quiescent(policy)
    finally:
        for gate in gates:
            if gate.pid is not None:
                os.killpg(gate.pid, signal.SIGCONT)
        stop_all(gates)

    counts = await decisions_by_candidate(policy, N)
    assert set(counts) == ids
    assert {c for c, k in counts.items() if k != 1} == set()
    rows = await policy.query("SELECT status, count(*) AS n FROM candidates GROUP BY status")
    assert {r["status"]: r["n"] for r in rows} == {"admitted": N // 2, "rejected": N // 2}


def killed(gate: ServiceProcess) -> None:
    gate.kill()


def paused(gate: ServiceProcess) -> None:
    os.killpg(gate.pid, signal.SIGSTOP)


def resumed(gate: ServiceProcess) -> None:
    os.killpg(gate.pid, signal.SIGCONT)


async def test_the_publishing_gate_killed_mid_stream_loses_and_repeats_nothing(policy,
                                                                               tmp_path):
    await run_with_the_leader_taken_away(policy, tmp_path, killed, TAKEOVER_S)


async def test_a_paused_gate_that_wakes_up_is_fenced_and_repeats_nothing(policy, tmp_path):
    await run_with_the_leader_taken_away(policy, tmp_path, paused, ZOMBIE_TAKEOVER_S,
                                         bring_back=resumed)
