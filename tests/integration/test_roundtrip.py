"""First round trip through real Kafka: FastStream publisher app -> FastStream consumer app,
with a malformed record dead-lettered and the consumer going on."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from faststream import AckPolicy
from gemroll_common.kafka import EventPublisher, dead_letter_middleware, make_broker, topic_name
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_UPLOADED,
    DeadLetter,
    MediaUploaded,
    MediaUploadedData,
    Service,
)
from gemroll_dev.testkit import committed_offsets, isolate, produce_raw, read_topic

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


async def test_event_round_trip_and_dead_letter(stack, unique):
    env = await isolate(stack, unique)
    group = f"roundtrip-{unique}"
    received: list[MediaUploaded] = []
    got_valid = asyncio.Event()

    consumer_broker = make_broker(env.kafka, "roundtrip", middlewares=(
        dead_letter_middleware(service=Service.classifier, group=group, settings=env.kafka),
    ))

    @consumer_broker.subscriber(
        topic_name(MEDIA_UPLOADED, env.kafka), group_id=group,
        auto_offset_reset="earliest", ack_policy=AckPolicy.ACK,
    )
    async def on_uploaded(event: MediaUploaded) -> None:
        received.append(event)
        if len(received) == 2:
            got_valid.set()

    producer_broker = make_broker(env.kafka, Service.ingest)
    publisher = EventPublisher(producer_broker, env.kafka, Service.ingest)
    first, second = uploaded(1), uploaded(1)
    malformed = b'{"event_type": "media.uploaded", "data": {"media_id": "not-a-uuid"}}'

    async with producer_broker, consumer_broker:
        await consumer_broker.start()
        await publisher.publish(MEDIA_UPLOADED, first, key=first.data.user_key)
        await produce_raw(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED), malformed,
                          key=first.data.user_key.encode())
        await publisher.publish(MEDIA_UPLOADED, second, key=second.data.user_key)
        await asyncio.wait_for(got_valid.wait(), 30)
        await asyncio.sleep(0.5)  # let the last commit land

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


async def test_publisher_refuses_foreign_topics(stack, unique):
    env = await isolate(stack, unique)
    broker = make_broker(env.kafka, Service.classifier)
    publisher = EventPublisher(broker, env.kafka, Service.classifier)
    with pytest.raises(PermissionError):
        await publisher.publish(MEDIA_UPLOADED, uploaded(2), key="k")
