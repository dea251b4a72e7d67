"""`make demo`: bring the stack up, send an event through it, show what happened, bring it down."""

from __future__ import annotations

import asyncio
import uuid

from faststream import AckPolicy
from gemroll_common.kafka import EventPublisher, make_broker, topic_name
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import MEDIA_UPLOADED, MediaUploaded, MediaUploadedData, Service

from .stack import down, up


async def _round_trip(bootstrap: str) -> MediaUploaded:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    received: asyncio.Future[MediaUploaded] = asyncio.get_running_loop().create_future()
    broker = make_broker(settings, "demo")

    @broker.subscriber(topic_name(MEDIA_UPLOADED, settings), group_id=f"demo-{uuid.uuid4().hex}",
                       auto_offset_reset="latest", ack_policy=AckPolicy.ACK)
    async def on_uploaded(event: MediaUploaded) -> None:
        if not received.done():
            received.set_result(event)

    event = MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key="d" * 32, bucket="gemroll-media",
        object_key="users/demo/media/1", content_type="image/jpeg", size_bytes=1,
        sha256="0" * 64, width=1, height=1))
    async with broker:
        await broker.start()
        await asyncio.sleep(1.0)  # let the demo consumer join before publishing
        await EventPublisher(broker, settings, Service.ingest).publish(
            MEDIA_UPLOADED, event, key=event.data.user_key)
        return await asyncio.wait_for(received, 30)


def main() -> None:
    result = up()
    try:
        event = asyncio.run(_round_trip(result.endpoints.kafka_bootstrap))
        print(f"published and received {event.event_type} {event.event_id} "
              f"on {MEDIA_UPLOADED.name}")
    finally:
        down()


if __name__ == "__main__":
    main()
