"""Two classifier instances on one consumer group and one database share the uploads; one is
SIGKILLed in the middle of the stream, and upstream (at least once) delivers some uploads
twice. Afterwards every media is classified: one stored result per media, and on the topics
one MediaClassified event id (and one TrainingCandidate) per media, the stored one, however
often a redelivery republished it; nothing is dead-lettered."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from gemroll_common.kafka import EventPublisher, key_partition, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_UPLOADED,
    TRAINING_CANDIDATES,
    MediaClassified,
    MediaUploaded,
    MediaUploadedData,
    Service,
    TrainingCandidate,
    subscription,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.processes import ServiceProcess, free_port, stop_all
from gemroll_testkit.topics import caught_up, read_records

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
PHOTOS_PER_USER = 10
PACE_S = 0.03
SIZE = (320, 240)
T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)


def instance(env, schema: str, log: Path) -> ServiceProcess:
    return ServiceProcess("classifier", free_port(), {
        **env.as_env(),
        "GEMROLL_CLASSIFIER_DB_SCHEMA": schema,
        "GEMROLL_CLASSIFIER_DEVICE": "cpu",
        "GEMROLL_CLASSIFIER_THREADS": "1",  # two instances on a small machine
        "GEMROLL_CLASSIFIER_FACES": "false",  # no part of what is shared or deduplicated
        "GEMROLL_CLASSIFIER_BATCH_MAX": "4",  # many batches: many kill points
        "GEMROLL_CLASSIFIER_BATCH_TIMEOUT_MS": "100",
        "GEMROLL_ENV": "development",
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }, log, cwd=ROOT, inherit_config=False)


async def classified_by(proc: ServiceProcess) -> float:
    """Media this instance classified (and stored), from its own /metrics."""
    return await proc.metric("gemroll_classifier_images_total")


def one_user_per_partition(partitions: int) -> list[str]:
    """User keys whose records land on every partition: both instances get work."""
    users: dict[int, str] = {}
    while len(users) < partitions:
        key = uuid.uuid4().hex
        users.setdefault(key_partition(key.encode(), partitions), key)
    return [users[p] for p in range(partitions)]


async def test_two_instances_share_the_uploads_and_a_kill_loses_and_repeats_nothing(
        isolated_env, tmp_path):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    prefix = f"test-classifier-scale-out/{env.schema_suffix.lstrip('_')}"
    store = ObjectStore(env.s3)
    users = one_user_per_partition(MEDIA_UPLOADED.partitions)
    uploads: list[MediaUploaded] = []
    for p in range(PHOTOS_PER_USER):  # round robin over the users: each half has them all
        for u, user in enumerate(users):
            media_id = uuid.uuid4()
            key = f"{prefix}/{media_id}.jpg"
            blob = photos.jpeg(photos.hills(u * PHOTOS_PER_USER + p, SIZE))
            await store.put_bytes(key, blob, "image/jpeg")
            uploads.append(MediaUploaded(producer="ingest", data=MediaUploadedData(
                media_id=media_id, user_key=user, bucket=store.bucket, object_key=key,
                content_type="image/jpeg", size_bytes=len(blob),
                sha256=hashlib.sha256(blob).hexdigest(), width=SIZE[0], height=SIZE[1],
                captured_at=T0 + timedelta(hours=u, minutes=10 * p))))
    half = len(uploads) // 2
    a, b = (instance(env, schema, tmp_path / f"classifier-{n}.log") for n in "ab")
    broker = make_broker(env.kafka, "scale-out-test")
    conn = await asyncpg.connect(env.database.url.get_secret_value())
    try:
        a.start()
        await a.wait_ready(180)  # a migrates the schema first; b joins the same group
        b.start()
        await b.wait_ready(180)
        async with broker:
            await broker.connect()
            ingest = EventPublisher(broker, env.kafka, Service.ingest)
            killed = asyncio.Event()

            async def stream() -> None:
                """The uploads trickle in; upstream is at least once: some arrive twice (the
                same event), before and after the kill."""
                for event in uploads[:half] + uploads[:6]:
                    await ingest.publish(MEDIA_UPLOADED, event, key=event.data.user_key)
                    await asyncio.sleep(PACE_S)
                await killed.wait()
                for event in uploads[half:] + uploads[half - 3:half + 3] + uploads[-6:]:
                    await ingest.publish(MEDIA_UPLOADED, event, key=event.data.user_key)
                    await asyncio.sleep(PACE_S)

            publishing = asyncio.create_task(stream())

            async def both_working() -> bool:
                if publishing.done():
                    publishing.result()  # publishing failed: say why
                return await classified_by(a) > 0 and await classified_by(b) > 0

            try:
                await eventually(both_working, "both instances to classify photos",
                                 timeout_s=90, every_s=0.1,
                                 diagnostics=lambda: f"a:\n{a.tail()}\nb:\n{b.tail()}")
                a.kill()  # mid-stream: a has records fetched, in work or not yet committed
                killed.set()
                await publishing
            finally:
                publishing.cancel()

        group = subscription(Service.classifier, MEDIA_UPLOADED).group + env.suffix

        async def settled() -> bool:
            if not await caught_up(env.kafka.bootstrap_servers, group,
                                   env.topic(MEDIA_UPLOADED)):
                return False
            return await conn.fetchval(f"SELECT count(*) FROM {schema}.media_results") \
                >= len(uploads)

        # the survivor takes a's partitions over (after the session timeout) and finishes
        await eventually(settled, "the survivor to finish a's work", timeout_s=150,
                         every_s=0.5, diagnostics=lambda: f"b:\n{b.tail()}")
        rows = await conn.fetch(
            f"SELECT media_id, classified_event->>'event_id' AS event_id,"
            f" candidate_event->>'event_id' AS candidate_event_id FROM {schema}.media_results")
    finally:
        stop_all([a, b])
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
        await store.delete_prefix(f"{prefix}/")

    bootstrap = env.kafka.bootstrap_servers
    classified = [MediaClassified.from_json(r.value)
                  for r in await read_records(bootstrap, env.topic(MEDIA_CLASSIFIED))]
    candidates = [TrainingCandidate.from_json(r.value)
                  for r in await read_records(bootstrap, env.topic(TRAINING_CANDIDATES))]
    letters = await read_records(bootstrap, env.topic(DEAD_LETTERS))

    media_ids = {u.data.media_id for u in uploads}
    # one stored result per media (none lost, none twice)
    assert sorted(r["media_id"] for r in rows) == sorted(media_ids)
    stored = {r["media_id"]: (r["event_id"], r["candidate_event_id"]) for r in rows}

    # one MediaClassified event per media, the stored one: a redelivery repeats it
    classified_ids: dict[uuid.UUID, set[str]] = defaultdict(set)
    for event in classified:
        classified_ids[event.data.media_id].add(str(event.event_id))
    assert set(classified_ids) == media_ids
    assert {m: ids for m, ids in classified_ids.items() if len(ids) != 1} == {}
    assert {m: ids.pop() for m, ids in classified_ids.items()} == \
        {m: event_id for m, (event_id, _) in stored.items()}

    # one training candidate per media, likewise
    candidate_ids: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
    for event in candidates:
        candidate_ids[event.data.media_id].add((str(event.event_id),
                                                str(event.data.candidate_id)))
    assert set(candidate_ids) == media_ids
    assert {m: ids for m, ids in candidate_ids.items() if len(ids) != 1} == {}
    assert {m: ids.pop()[0] for m, ids in candidate_ids.items()} == \
        {m: candidate for m, (_, candidate) in stored.items()}

    assert letters == []
