"""Helpers for tests against the real stack: isolated topics, settings, and topic readers."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from gemroll_common.settings import DatabaseSettings, KafkaSettings, S3Settings
from gemroll_contracts import ALL_TOPICS, Topic
from PIL import Image, ImageCms
from pydantic import SecretStr

from .stack.config import StackEndpoints
from .stack.kafka import ensure_topics


@dataclass(frozen=True)
class Isolated:
    """Settings pointing at the shared stack with names private to one test."""

    kafka: KafkaSettings
    database: DatabaseSettings
    s3: S3Settings
    suffix: str
    schema_suffix: str

    def topic(self, topic: Topic) -> str:
        return topic.name + self.suffix


async def isolate(stack: StackEndpoints, unique: str) -> Isolated:
    suffix = f".t{unique}"
    await ensure_topics(stack.kafka_bootstrap, ALL_TOPICS, suffix=suffix)
    return Isolated(
        kafka=KafkaSettings(bootstrap_servers=stack.kafka_bootstrap, topic_suffix=suffix),
        database=DatabaseSettings(url=SecretStr(stack.database_url)),
        s3=S3Settings(
            endpoint=stack.s3_endpoint,
            access_key=SecretStr(stack.s3_access_key),
            secret_key=SecretStr(stack.s3_secret_key),
            bucket=stack.s3_bucket,
        ),
        suffix=suffix,
        schema_suffix=f"_t{unique}",
    )


async def produce_raw(bootstrap: str, topic: str, value: bytes, key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[bytes]], bool] = lambda _: False,
    timeout_s: float = 20.0,
    read_committed: bool = True,
) -> list[bytes]:
    """All values of `topic` from the beginning, waiting until `until(values)` or the timeout
    (then returns what it has: callers assert on it)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed" if read_committed else "read_uncommitted",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise LookupError(f"topic {topic} does not exist")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                values.extend(r.value for r in records if r.value is not None)
            if until(values):
                break
    finally:
        await consumer.stop()
    return values


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        parts = consumer.partitions_for_topic(topic) or set()
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in sorted(parts)}
    finally:
        await consumer.stop()


def gps_tagged_jpeg(size: tuple[int, int] = (320, 240)) -> bytes:
    """A phone-like JPEG: exact GPS, camera serial, owner, XMP, a colour profile, rotated."""
    image = Image.new("RGB", size, (180, 120, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to display
    exif[0x013B] = "Alice Example"  # artist
    exif[0x8298] = "(c) Alice Example"
    exif[0x010F], exif[0x0110] = "Phone", "Phone 12"
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-0042"  # body serial number
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 24.12), "E", (2.0, 21.0, 7.5)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
           b'photoshop:City="Paris"/></rdf:RDF></x:xmpmeta>')
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=xmp, icc_profile=icc, quality=90)
    return buffer.getvalue()
