"""First round trip through real Kafka: a publisher -> the consumer runner, with a malformed
record dead-lettered and the consumer going on."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from gemroll_common.consumer import Consumers
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_UPLOADED,
    DeadLetter,
    MediaUploaded,
    MediaUploadedData,
    Service,
)
from gemroll_testkit.topics import committed_offsets, produce, read_topic
from gemroll_testkit.waiting import eventually

pytestmark = pytest.mark.integration


def uploaded(n: int) -> MediaUploaded:
    return MediaUploaded(
        producer="ingest",
        data=MediaUploadedData(
            media_id=uuid.uuid4(), user_key=f"{n:032x}", bucket="gemroll-media",
            object_key=f"users/{n:032x}/media/{n}", content_type="image/jpeg",
            size_bytes=1000 + n, sha256=f"{n:064x}", width=4032, height=3024,
        ),
    )


async def all_committed(env, group: str, count: int) -> bool:
    offsets = await committed_offsets(env.kafka.bootstrap_servers, group,
                                      env.topic(MEDIA_UPLOADED))
    return sum(o or 0 for o in offsets.values()) == count


async def test_event_round_trip_and_dead_letter(isolated_env):
    env = isolated_env
    received: list[MediaUploaded] = []
    got_valid = asyncio.Event()

    consumer_broker = make_broker(env.kafka, Service.classifier)
    consumers = Consumers(consumer_broker, env.kafka, Service.classifier)
    group = consumers.group(MEDIA_UPLOADED)

    async def on_uploaded(event: MediaUploaded) -> None:
        received.append(event)
        if len(received) == 2:
            got_valid.set()

    consumers.subscribe(MEDIA_UPLOADED, on_uploaded)

    producer_broker = make_broker(env.kafka, Service.ingest)
    publisher = EventPublisher(producer_broker, env.kafka, Service.ingest)
    first, second = uploaded(1), uploaded(1)
    malformed = b'{"event_type": "media.uploaded", "data": {"media_id": "not-a-uuid"}}'

    async with producer_broker, consumer_broker:
        await consumer_broker.start()
        await publisher.publish(MEDIA_UPLOADED, first, key=first.data.user_key)
        await produce(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED), malformed,
                      key=first.data.user_key.encode())
        await publisher.publish(MEDIA_UPLOADED, second, key=second.data.user_key)
        await asyncio.wait_for(got_valid.wait(), 30)
        await eventually(lambda: all_committed(env, group, 3), "the last commit to land")

    assert [e.event_id for e in received] == [first.event_id, second.event_id]
    assert received[0] == first

    letters = [DeadLetter.from_json(v) for v in await read_topic(
        env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS), until=lambda v: len(v) >= 1)]
    assert len(letters) == 1
    letter = letters[0].data
    assert letter.original_value == malformed
    assert letter.source_topic == env.topic(MEDIA_UPLOADED)
    assert letter.error_type == "ValidationError"
    assert "media_id" in letter.error

    offsets = await committed_offsets(env.kafka.bootstrap_servers, group, env.topic(MEDIA_UPLOADED))
    assert sum(o or 0 for o in offsets.values()) == 3, offsets


async def test_publisher_refuses_foreign_topics(isolated_env):
    env = isolated_env
    broker = make_broker(env.kafka, Service.classifier)
    publisher = EventPublisher(broker, env.kafka, Service.classifier)
    with pytest.raises(PermissionError):
        await publisher.publish(MEDIA_UPLOADED, uploaded(2), key="k")
