"""Policy gate benchmark: `python -m gemroll_dev.bench.policy` (what `make bench-policy` runs).

Against the running local stack (`make up`), in one run, alternating, `--runs` times each:

* gate: the policy service's gate loop (in this process) decides N pre-produced candidates
  (`--admitted` of them admitted: the user shared the photo, whose training copy is made from
  a real phone JPEG with EXIF and GPS, metadata stripped; the rest rejected: the user opted
  out of training) with real Kafka transactions and PostgreSQL state, audit chain and outbox;
* store: the object store alone reads and writes as many copies of the same JPEG, as many at
  a time as the gate copies: the ceiling the store allows for the admissions;
* raw: a bare transactional consume -> produce loop (same consumer and producer settings,
  same batch size, read_committed, offsets in the transaction) copies N records of the same
  size from a topic to another: the ceiling Kafka alone allows here.

Each run has its own topics and schema (removed at the end). Time runs from the first batch
polled to the last transaction committed. Prints medians and the ratio gate / raw.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import statistics
import time
import uuid
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from gemroll_common.db import create_pool, migrate
from gemroll_common.kafka import topic_name
from gemroll_common.logging import configure_logging
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    USER_ACTIONS,
    ActionKind,
    Event,
    Topic,
)
from gemroll_policy.adapters.gate_loop import GateLoop
from gemroll_policy.adapters.kafka_clients import CachedKeyPartitioner
from gemroll_policy.adapters.postgres import PostgresConsentStore, PostgresGateStore
from gemroll_policy.adapters.storage import S3TrainingObjects
from gemroll_policy.domain import Pseudonymizer
from gemroll_policy.gc_tuning import tune_gc
from gemroll_policy.settings import PolicySettings
from gemroll_policy.usecases import ConsentHandler, GateHandler
from gemroll_testkit import photos
from gemroll_testkit.events import action, candidate, user_key
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate

from ..stack.config import StackEndpoints
from ..stack.testing import session_stack

USERS = 200


@dataclass(frozen=True)
class Run:
    records: int
    wall_s: float
    admitted: int = 0

    @property
    def per_s(self) -> float:
        return self.records / self.wall_s


async def produce(env: Isolated, topic: Topic, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env.kafka.bootstrap_servers, linger_ms=20,
                                max_batch_size=512 * 1024, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send(env.topic(topic), event.to_json(),
                                key=event.data.user_key.encode())  # type: ignore[attr-defined]
        await producer.flush()
    finally:
        await producer.stop()


class TimedGate(GateLoop):
    """The real gate loop, timed from the first batch to the last commit with output."""

    def __init__(self, *args: object, expected: int, **kwargs: object) -> None:
        super().__init__(*args, checkpoint=self._tick, **kwargs)  # type: ignore[arg-type]
        self.expected = expected
        self.first: float | None = None
        self.last = 0.0
        self.consumed = 0
        self.done = asyncio.Event()

    async def _decide(self, batch, consumer):  # type: ignore[no-untyped-def]
        if self.first is None:
            self.first = time.perf_counter()
        ok = await super()._decide(batch, consumer)
        if ok:
            self.consumed += sum(len(records) for records in batch.values())
        return ok

    def _tick(self, name: str) -> None:
        if name == "after_kafka_commit":
            self.last = time.perf_counter()


async def gate_run(stack: StackEndpoints, n: int, batch: int, admitted: float) -> Run:
    env = await isolate(stack, uuid.uuid4().hex[:8])
    schema = f"policy_bench{env.schema_suffix}"
    settings = PolicySettings(db_schema=schema, batch_max_records=batch,
                              retention_interval_s=3600)
    pseudonyms = Pseudonymizer(settings.pseudonym_secret.get_secret_value())
    pool = await create_pool(env.database, schema)
    try:
        await migrate(pool, schema, "gemroll_policy")
        consent = ConsentHandler(PostgresConsentStore(pool, schema), pseudonyms,
                                 clock=_now)
        sharers = [user_key(f"bench-in-{i}") for i in range(USERS // 2)]
        opted_out = [user_key(f"bench-out-{i}") for i in range(USERS // 2)]
        for user in sharers:
            await consent.change(user, camera_roll=True)
        for user in opted_out:
            await consent.change(user, camera_roll=True, training_opt_out=True)
        actions, candidates, sources = [], [], []
        every = max(1, round(1 / admitted)) if admitted > 0 else 0
        for i in range(n):
            media = uuid.uuid4()
            if every and i % every == 0:
                user = sharers[i % len(sharers)]
                actions.append(action(user, media, ActionKind.shared))
                sources.append(candidate(user, media))
                candidates.append(sources[-1])
            else:
                user = opted_out[i % len(opted_out)]
                candidates.append(candidate(user, media))
        store = ObjectStore(env.s3, threads=settings.training_copy_concurrency)
        sem = asyncio.Semaphore(16)

        # what a training copy is made from: a landscape phone photo (upright: no re-encoding)
        original = photos.phone_jpeg(size=(1024, 768), orientation=1)

        async def put(key: str) -> None:
            async with sem:
                await store.put_bytes(key, original, "image/jpeg")

        await asyncio.gather(*(put(c.data.object_key) for c in sources))
        handler = GateHandler(PostgresGateStore(pool, schema, pseudonyms), pseudonyms,
                              retention_days=30, clock=_now,
                              objects=S3TrainingObjects(store),
                              copy_concurrency=settings.training_copy_concurrency)

        # warm-up, not timed: the gate takes in consents and actions
        await produce(env, USER_ACTIONS, actions)
        warm = TimedGate(handler, pool, env.kafka, settings, expected=0)
        task = asyncio.create_task(warm.run())
        await _until(lambda: _count(pool, "SELECT count(*) FROM actions") , len(actions))
        await _until(lambda: _count(pool, "SELECT count(*) FROM outbox"), 0)
        warm.stop()
        await task

        await produce(env, TRAINING_CANDIDATES, candidates)
        gate = TimedGate(handler, pool, env.kafka, settings, expected=n)
        task = asyncio.create_task(gate.run())
        await _until(lambda: _count(pool, "SELECT count(*) FROM candidates "
                                          "WHERE status <> 'pending'"), n)
        await _until(lambda: _count(pool, "SELECT (SELECT count(*) FROM outbox) "
                                          "+ (SELECT count(*) FROM copy_retries)"), 0)
        gate.stop()
        await task
        assert gate.first is not None
        admitted_now = await _count(pool, "SELECT count(*) FROM candidates "
                                          "WHERE status = 'admitted'")
        return Run(n, gate.last - gate.first, admitted_now)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()
        await drop_isolated(env)


async def raw_run(stack: StackEndpoints, n: int, batch: int) -> Run:
    """Transactional consume -> produce of the same records, nothing else."""
    env = await isolate(stack, uuid.uuid4().hex[:8])
    try:
        users = [user_key(f"bench-raw-{i}") for i in range(USERS)]
        await produce(env, TRAINING_CANDIDATES,
                      [candidate(users[i % USERS], uuid.uuid4()) for i in range(n)])
        source = topic_name(TRAINING_CANDIDATES, env.kafka)
        target = topic_name(TRAINING_DECISIONS, env.kafka)
        group = f"bench-raw{env.suffix}"
        consumer = AIOKafkaConsumer(
            source, bootstrap_servers=env.kafka.bootstrap_servers, group_id=group,
            enable_auto_commit=False, auto_offset_reset="earliest",
            isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024)
        producer = AIOKafkaProducer(
            bootstrap_servers=env.kafka.bootstrap_servers, transactional_id=group,
            enable_idempotence=True, acks="all", linger_ms=5, max_batch_size=512 * 1024,
            partitioner=CachedKeyPartitioner())  # as the gate's producer
        await producer.start()
        await consumer.start()
        try:
            done, first, last = 0, None, 0.0
            while done < n:
                records = await consumer.getmany(timeout_ms=100, max_records=batch)
                if not records:
                    continue
                first = first or time.perf_counter()
                async with producer.transaction():
                    for tp_records in records.values():
                        for r in tp_records:
                            await producer.send(target, r.value, key=r.key)
                    await producer.send_offsets_to_transaction(
                        {tp: rs[-1].offset + 1 for tp, rs in records.items()}, group)
                last = time.perf_counter()
                done += sum(len(rs) for rs in records.values())
            assert first is not None
            return Run(n, last - first)
        finally:
            await consumer.stop()
            await producer.stop()
    finally:
        await drop_isolated(env)


async def store_run(stack: StackEndpoints, n: int, concurrency: int) -> Run:
    """The object store alone: n reads and writes of the same phone JPEG, `concurrency` at a
    time, the I/O one training copy needs (its ceiling on this machine)."""
    env = await isolate(stack, uuid.uuid4().hex[:8])
    store = ObjectStore(env.s3, threads=concurrency)
    original = photos.phone_jpeg(size=(1024, 768), orientation=1)
    prefix = f"bench/policy-store/{env.suffix}/"
    await store.put_bytes(prefix + "source", original, "image/jpeg")
    limit = asyncio.Semaphore(concurrency)

    def copy(i: int) -> None:
        data = store.get_bytes_sync(prefix + "source")
        store.put_sync(f"{prefix}{i}", io.BytesIO(data), len(data), "image/jpeg")

    async def one(i: int) -> None:
        async with limit:
            await store.run_sync(copy, i)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - started
        await store.delete_prefix(prefix)
    finally:
        await drop_isolated(env)
    return Run(n, wall)


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def _count(pool: asyncpg.Pool, sql: str) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(sql))


async def _until(read, target: int, timeout_s: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while (value := await read()) != target:
        if time.monotonic() > deadline:
            raise SystemExit(f"benchmark stalled at {value} of {target}")
        await asyncio.sleep(0.05)


async def main(n: int, runs: int, batch: int, admitted: float) -> None:
    configure_logging("bench-policy", level="WARNING")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # transient retries are expected
    tune_gc()  # as the service does at start-up
    with session_stack() as stack:  # reused when running, else started and stopped
        gate_runs, raw_runs, store_runs = [], [], []
        copies = PolicySettings().training_copy_concurrency
        for i in range(runs):
            raw_runs.append(await raw_run(stack, n, batch))
            store_runs.append(await store_run(stack, max(200, round(n * admitted)), copies))
            gate_runs.append(await gate_run(stack, n, batch, admitted))
            print(f"run {i + 1}/{runs}: gate {gate_runs[-1].per_s:8.0f} decisions/s   "
                  f"raw {raw_runs[-1].per_s:8.0f} records/s   "
                  f"store {store_runs[-1].per_s:6.0f} copies/s   "
                  f"admitted {gate_runs[-1].admitted} of {n}", flush=True)
        gate = statistics.median(r.per_s for r in gate_runs)
        raw = statistics.median(r.per_s for r in raw_runs)
        store = statistics.median(r.per_s for r in store_runs)
        print()
        print(f"policy gate, {n} candidates per run ({admitted:.0%} to admit, each with a "
              f"metadata-stripped training copy; the rest rejected), batch {batch}, "
              f"{os.cpu_count()} CPUs, medians of {runs} runs:")
        print(f"  gate (Kafka txn + PostgreSQL state, audit, outbox) {gate:10.0f} decisions/s")
        print(f"  raw transactional consume -> produce             {raw:10.0f} records/s")
        print(f"  ratio gate / raw                                  {gate / raw:10.2f}")
        print(f"  object store alone: read + write of a copy ({copies} at a time) "
              f"{store:6.0f} copies/s")
        if admitted > 0:
            print(f"  -> at most {store / admitted:.0f} decisions/s at this mix from the store's "
                  f"side; gate copies {gate * admitted:.0f}/s "
                  f"({gate * admitted / store:.2f} of the store's ceiling)")
        target = 5000 if admitted <= 0.05 else 1500
        print(f"  target >= {target} decisions/s at this mix: "
              f"{'met' if gate >= target else 'NOT met'}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=PolicySettings().batch_max_records)
    parser.add_argument("--admitted", type=float, default=0.05,
                        help="share of candidates admitted (0.05 realistic, 0.5 heavy)")
    args = parser.parse_args()
    asyncio.run(main(args.records, args.runs, args.batch, args.admitted))


if __name__ == "__main__":
    cli()
