"""Suggester benchmark on the local stack (`make bench-suggester`).

    python -m gemroll_dev.bench.suggester [--photos 2000] [--groups 20] [--runs 3]

Each run uses fresh, isolated topics and a fresh schema, and measures:

1. baseline: raw consume throughput of the MediaClassified topic (aiokafka, every record
   parsed into the contract model), from the first record to the last;
2. the suggester processing the same topic (in-process app: consume, dedupe, group into
   events, store in PostgreSQL, commit the offset), from its first processed record to
   its last — the quiet period is set long here so the planner stays out of the way;
3. latency: events (groups of photos) published at a steady pace to a suggester with a
   short quiet period; the time from an event's last classification (broker ack) to its
   first SuggestionCreated on the suggestion topic, including the quiet period, planning,
   rendering (default preview sizes), the outbox and Kafka.

Figures are medians over the runs; throughput is also shown as a ratio of the baseline.
BENCH_LOG_LEVEL=INFO shows the suggester's own logs (one line per planned event).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    SUGGESTIONS,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Quality,
    SuggestionCreated,
)
from gemroll_testkit import photos
from gemroll_testkit.isolation import Isolated, isolate

from gemroll_dev.stack.testing import session_stack

ORIGINALS = 12
LISBON = "eycs2"


@dataclass(frozen=True)
class Figures:
    raw_per_s: float
    suggester_per_s: float
    latencies_s: list[float]
    plan_s: float
    """Mean time to plan one event (load originals, analyse, render, store, commit)."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def unit_vector(rng: random.Random, dims: int = 64) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(dims)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


async def upload_originals(env: Isolated, size: tuple[int, int]) -> list[str]:
    store = ObjectStore(env.s3)
    keys = []
    for i in range(ORIGINALS):
        key = f"bench/{env.suffix.strip('.')}/original-{i}.jpg"
        scene = photos.Scene(width=size[0], height=size[1], seed=i,
                             exposure_stops=-1.2 if i % 3 == 0 else 0.0)
        await store.put_bytes(key, photos.jpeg(photos.render(scene)), "image/jpeg")
        keys.append(key)
    return keys


def photo(rng: random.Random, user: str, key: str, captured: datetime,
          size: tuple[int, int]) -> MediaClassified:
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=uuid.uuid4(), user_key=user, bucket="gemroll-media", object_key=key,
        width=size[0], height=size[1], captured_at=captured, coarse_location=LISBON,
        category=Category.photo,
        quality=Quality(sharpness=rng.random(), exposure=rng.random(), noise=rng.random() / 3,
                        brightness=0.5),
        nsfw_score=rng.random() / 10, face_count=0, embedding=unit_vector(rng),
        gem_score=round(rng.uniform(0.5, 1.0), 3), is_gem=rng.random() < 0.7,
        model=ModelInfo(name="bench", version="1"),
    ))


def event_groups(rng: random.Random, keys: list[str], groups: int, per_group: int,
                 size: tuple[int, int]) -> list[list[MediaClassified]]:
    """`groups` events (of `per_group` photos each), spread over users and days."""
    out = []
    base = datetime(2026, 3, 14, 10, tzinfo=UTC)
    for g in range(groups):
        user = uuid.UUID(int=g % 97 + 1).hex
        start = base + timedelta(days=g)
        out.append([photo(rng, user, keys[(g + i) % len(keys)],
                          start + timedelta(minutes=10 * i), size) for i in range(per_group)])
    return out


async def publish_all(bootstrap: str, topic: str, events: list[MediaClassified]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        for e in events:
            await producer.send(topic, e.to_json(), key=e.data.user_key.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Records/s of a plain consumer that parses every record (first record to last)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=500)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, first = 0, None
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    first = first or time.perf_counter()
                    MediaClassified.from_json(record.value)
                    seen += 1
        return (n - 1) / (time.perf_counter() - first) if first else 0.0
    finally:
        await consumer.stop()


def processed_so_far() -> float:
    """MediaClassified records the in-process suggester has finished (its own counter)."""
    from gemroll_suggester.metrics import CLASSIFIED

    return sum(s.value for m in CLASSIFIED.collect() for s in m.samples
               if s.name.endswith("_total"))


def plan_seconds() -> tuple[float, float]:
    """(sum, count) of the in-process planner's per-event planning times."""
    from gemroll_suggester.metrics import PLAN_SECONDS

    samples = {s.name: s.value for m in PLAN_SECONDS.collect() for s in m.samples}
    return samples["gemroll_suggester_plan_seconds_sum"], samples[
        "gemroll_suggester_plan_seconds_count"]


def make_app(env: Isolated, unique: str, *, quiet_s: float):
    from gemroll_common.settings import AuthSettings
    from gemroll_suggester.app import create_app
    from gemroll_suggester.settings import SuggesterSettings

    settings = SuggesterSettings(
        db_schema=f"suggester_bench_{unique}",
        quiet_seconds=quiet_s, planner_interval_seconds=0.05, outbox_interval_seconds=0.05,
        log_level=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    )
    # In process and never served over HTTP: the development verifier is enough.
    return create_app(settings, kafka=env.kafka, database=env.database, s3=env.s3,
                      auth=AuthSettings())


async def suggester_throughput(env: Isolated, unique: str, n: int) -> float:
    """Records/s the suggester processes (first processed record to last)."""
    app = make_app(env, unique, quiet_s=3600)
    start = processed_so_far()
    async with app.router.lifespan_context(app):
        first = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = processed_so_far() - start
            if done > 0 and first is None:
                first = time.perf_counter()
            if done >= n:
                return (n - 1) / (time.perf_counter() - first) if first else 0.0
            await asyncio.sleep(0.02)
    raise TimeoutError("the suggester did not process every record in 10 minutes")


async def latencies(env: Isolated, unique: str, groups: list[list[MediaClassified]],
                    pace_s: float, quiet_s: float) -> list[float]:
    """Seconds from each event's last classification to its first SuggestionCreated."""
    bootstrap = env.kafka.bootstrap_servers
    group_of = {p.data.media_id: g for g, photos in enumerate(groups) for p in photos}
    last_sent: dict[int, float] = {}
    first_suggestion: dict[int, float] = {}
    gems = {g for g, photos in enumerate(groups) if any(p.data.is_gem for p in photos)}

    watcher = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                               auto_offset_reset="earliest")
    await watcher.start()
    topic = env.topic(SUGGESTIONS)
    await watcher._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
    tps = [TopicPartition(topic, p) for p in sorted(watcher.partitions_for_topic(topic))]
    watcher.assign(tps)
    await watcher.seek_to_beginning(*tps)

    async def watch() -> None:
        while True:
            batch = await watcher.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    event = SuggestionCreated.from_json(record.value)
                    g = group_of.get(event.data.media_ids[0])
                    if g is not None:
                        first_suggestion.setdefault(g, now)

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    app = make_app(env, unique, quiet_s=quiet_s)
    watching = asyncio.create_task(watch())
    try:
        async with app.router.lifespan_context(app):
            await _until(lambda: _ready(app), 60)
            for g, photos in enumerate(groups):
                for p in photos:
                    await producer.send_and_wait(env.topic(MEDIA_CLASSIFIED), p.to_json(),
                                                 key=p.data.user_key.encode())
                last_sent[g] = time.perf_counter()
                await asyncio.sleep(pace_s)
            await _until(lambda: _true(gems <= first_suggestion.keys()), 120)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        await producer.stop()
        await watcher.stop()
    missing = gems - first_suggestion.keys()
    if missing:
        raise RuntimeError(f"{len(missing)} events got no suggestion within 2 minutes")
    return [first_suggestion[g] - last_sent[g] for g in sorted(gems)]


async def _true(value: bool) -> bool:
    return value


async def _until(probe, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    """Poll `probe()` until true or the timeout (callers check what they need afterwards)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if await probe() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.02)


async def _ready(app) -> bool:  # type: ignore[no-untyped-def]
    """Every subscription has its partitions (the runtime kit's own readiness check)."""
    runtime = getattr(app.state, "runtime", None)
    return runtime is not None and await runtime.consumers.ready()


async def one_run(endpoints, args: argparse.Namespace, run: int) -> Figures:  # type: ignore[no-untyped-def]
    rng = random.Random(run)
    unique = uuid.uuid4().hex[:8]
    env = await isolate(endpoints, unique)
    keys = await upload_originals(env, tuple(args.size))
    per_group = 5
    bulk = [p for g in event_groups(rng, keys, args.photos // per_group, per_group,
                                    tuple(args.size)) for p in g]
    topic = env.topic(MEDIA_CLASSIFIED)
    await publish_all(env.kafka.bootstrap_servers, topic, bulk)
    raw = await raw_consume(env.kafka.bootstrap_servers, topic, len(bulk))
    processed = await suggester_throughput(env, unique, len(bulk))

    env_latency = await isolate(endpoints, unique + "l")
    paced = event_groups(rng, keys, args.groups, 4, tuple(args.size))
    total_before, count_before = plan_seconds()
    lat = await latencies(env_latency, unique + "l", paced, args.pace, args.quiet)
    total_after, count_after = plan_seconds()
    plan = (total_after - total_before) / max(1.0, count_after - count_before)
    print(f"  run {run + 1}: raw {raw:,.0f}/s, suggester {processed:,.0f}/s, latency p50 "
          f"{statistics.median(lat):.2f} s, p99 {percentile(lat, 99):.2f} s, "
          f"planning {plan:.2f} s/event", flush=True)
    return Figures(raw, processed, lat, plan)


async def main(args: argparse.Namespace) -> None:
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("faststream").setLevel(logging.WARNING)
    from gemroll_suggester.settings import SuggesterSettings

    with session_stack() as endpoints:
        print(f"suggester benchmark: {args.photos} MediaClassified records for throughput, "
              f"{args.groups} events x 4 photos ({args.size[0]}x{args.size[1]}) every "
              f"{args.pace}s for latency, quiet period {args.quiet}s, {os.cpu_count()} CPUs, "
              f"intake batches of up to {SuggesterSettings().intake_batch_max} "
              "(GEMROLL_SUGGESTER_INTAKE_BATCH_MAX=1: one transaction per event)", flush=True)
        runs = [await one_run(endpoints, args, r) for r in range(args.runs)]
    raw = statistics.median(r.raw_per_s for r in runs)
    processed = statistics.median(r.suggester_per_s for r in runs)
    p50 = statistics.median(statistics.median(r.latencies_s) for r in runs)
    p99 = statistics.median(percentile(r.latencies_s, 99) for r in runs)
    print(f"\nmedians of {args.runs} runs")
    print(f"  raw consume (aiokafka + parse), baseline   {raw:10,.0f} events/s")
    print(f"  suggester processing MediaClassified        {processed:10,.0f} events/s"
          f"   ({processed / raw:.3f} x baseline)")
    plan = statistics.median(r.plan_s for r in runs)
    print(f"  last classification -> suggestion   p50 {p50:6.2f} s   p99 {p99:6.2f} s"
          f"   (of which quiet period {args.quiet:.2f} s)")
    print(f"  planning one event (4 photos: load, analyse, render 4 previews, commit) "
          f"{plan:.2f} s")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=2000, help="records for throughput")
    parser.add_argument("--groups", type=int, default=12, help="events for latency")
    parser.add_argument("--pace", type=float, default=2.0, help="seconds between events")
    parser.add_argument("--quiet", type=float, default=0.5, help="quiet period (seconds)")
    parser.add_argument("--size", type=int, nargs=2, default=(1600, 1067), metavar=("W", "H"))
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
