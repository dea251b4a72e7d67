"""Two suggester instances on one consumer group and one database share the work; one is
SIGKILLed in the middle of the stream. Afterwards every photo is taken in exactly once, every
event is planned exactly once (one highlight, one collage), each suggestion reaches the topic
with one event id per revision, and the dead instance's planner leases were taken over within
seconds."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    SUGGESTIONS,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Quality,
    Service,
    subscription,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.processes import ServiceProcess, free_port, stop_all
from gemroll_testkit.topics import caught_up, read_topic

from .conftest import T0, unit_vector

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
USERS, EVENTS_PER_USER, PHOTOS_PER_EVENT = 6, 3, 4
LEASE_S = 3.0


def instance(env, schema: str, log: Path) -> ServiceProcess:
    return ServiceProcess("suggester", free_port(), {
        **env.as_env(),
        "GEMROLL_SUGGESTER_DB_SCHEMA": schema,
        "GEMROLL_SUGGESTER_QUIET_SECONDS": "1",
        "GEMROLL_SUGGESTER_PLANNER_INTERVAL_SECONDS": "0.2",
        "GEMROLL_SUGGESTER_PLANNER_LEASE_SECONDS": str(LEASE_S),
        "GEMROLL_SUGGESTER_OUTBOX_INTERVAL_SECONDS": "0.2",
        "GEMROLL_SUGGESTER_INTAKE_BATCH_MAX": "10",  # many transactions: many kill points
        "GEMROLL_SUGGESTER_PREVIEW_MAX_SIDE": "320",
        "GEMROLL_SUGGESTER_COLLAGE_WIDTH": "480",
        "GEMROLL_SUGGESTER_COVER_WIDTH": "320",
        "GEMROLL_SUGGESTER_MEMORIES_INTERVAL_SECONDS": "0",
        "GEMROLL_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }, log, cwd=ROOT, inherit_config=False)


async def taken_in(proc: ServiceProcess) -> float:
    """Classifications this instance took in, from its own /metrics."""
    return await proc.metric("gemroll_suggester_media_total")


async def test_two_instances_share_the_stream_and_a_kill_loses_and_repeats_nothing(
        isolated_env, tmp_path):
    env = isolated_env
    schema = f"suggester{env.schema_suffix}"
    store = ObjectStore(env.s3)
    events: list[MediaClassified] = []
    for u in range(USERS):
        user_key = f"{u:032x}"
        for e in range(EVENTS_PER_USER):
            for p in range(PHOTOS_PER_EVENT):
                media_id = uuid.uuid4()
                key = f"users/{user_key}/media/{media_id}.jpg"
                await store.put_bytes(key, photos.jpeg(photos.hills(p, (320, 240))),
                                      "image/jpeg")
                events.append(MediaClassified(producer="classifier", data=MediaClassifiedData(
                    media_id=media_id, user_key=user_key, bucket=store.bucket, object_key=key,
                    width=320, height=240,
                    captured_at=T0 + timedelta(days=e, minutes=10 * p),
                    coarse_location="eycs2", category=Category.photo,
                    quality=Quality(sharpness=0.8, exposure=0.8, noise=0.1, brightness=0.5),
                    nsfw_score=0.01, face_count=0, embedding=unit_vector(p),
                    gem_score=0.9 - 0.05 * p, is_gem=True,
                    model=ModelInfo(name="test", version="1"))))
    half = len(events) // 2
    a, b = (instance(env, schema, tmp_path / f"suggester-{n}.log") for n in "ab")
    broker = make_broker(env.kafka, "scale-out-test")
    try:
        a.start()
        await a.wait_ready(120)  # a migrates the schema first; b joins the same group
        b.start()
        await b.wait_ready(120)
        async with broker:
            await broker.connect()
            classifier = EventPublisher(broker, env.kafka, Service.classifier)
            # upstream is at-least-once: some classifications arrive twice
            for event in events[:half] + events[:6]:
                await classifier.publish(MEDIA_CLASSIFIED, event, key=event.data.user_key)

            async def both_working() -> bool:
                return await taken_in(a) > 0 and await taken_in(b) > 0

            await eventually(both_working, "both instances to take in photos", timeout_s=60)
            a.kill()
            for event in events[half:] + events[-6:]:
                await classifier.publish(MEDIA_CLASSIFIED, event, key=event.data.user_key)

        conn = await asyncpg.connect(env.database.url.get_secret_value())
        try:
            group = subscription(Service.suggester, MEDIA_CLASSIFIED).group + env.suffix

            async def settled() -> bool:
                if not await caught_up(env.kafka.bootstrap_servers, group,
                                       env.topic(MEDIA_CLASSIFIED)):
                    return False
                return await conn.fetchval(
                    f"SELECT (SELECT count(*) FROM {schema}.outbox)"
                    f" + (SELECT count(*) FROM {schema}.events WHERE dirty)") == 0

            # the survivor takes over a's partitions and, once they run out, its leases
            await eventually(settled, "the survivor to finish a's work", timeout_s=120)
            media = await conn.fetch(f"SELECT media_id FROM {schema}.media")
            planned = await conn.fetch(
                f"SELECT event_id, kind, count(*) AS n FROM {schema}.suggestions"
                " WHERE kind IN ('highlight', 'collage') GROUP BY event_id, kind")
            event_rows = await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
        finally:
            await conn.close()
    finally:
        stop_all([a, b])

    assert Counter(r["media_id"] for r in media) == Counter(e.data.media_id for e in events)
    assert event_rows == USERS * EVENTS_PER_USER
    per_event = defaultdict(dict)
    for row in planned:
        per_event[row["event_id"]][row["kind"]] = row["n"]
    assert len(per_event) == USERS * EVENTS_PER_USER
    assert all(kinds == {"highlight": 1, "collage": 1} for kinds in per_event.values()), per_event

    published = [json.loads(v) for v in await read_topic(
        env.kafka.bootstrap_servers, env.topic(SUGGESTIONS), timeout_s=10)]
    ids_per_revision = defaultdict(set)
    for message in published:
        data = message["data"]
        ids_per_revision[(data["suggestion_id"], data.get("revision"))].add(message["event_id"])
    assert len({sid for sid, _ in ids_per_revision}) >= 2 * USERS * EVENTS_PER_USER
    assert all(len(ids) == 1 for ids in ids_per_revision.values())  # resent, never redone
