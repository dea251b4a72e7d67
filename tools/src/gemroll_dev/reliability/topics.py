"""Read whole topics back (read_committed), up to their end offsets at the time of reading."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


async def read_all(bootstrap: str, topic: str, *, read_committed: bool = True,
                   timeout_s: float = 60.0) -> list[Record]:
    """Every record of `topic` from the beginning up to the end offsets seen at the start."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
        isolation_level="read_committed" if read_committed else "read_uncommitted",
        max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    out: list[Record] = []
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise LookupError(f"topic {topic} does not exist")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout_s
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: not at its end after {timeout_s:.0f}s")
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                out.extend(Record(r.topic, r.partition, r.offset, r.key, r.value or b"",
                                  r.timestamp) for r in records)
    finally:
        await consumer.stop()
    return out


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic)
                                                         or ())]
        return {tp.partition: off for tp, off in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def group_lag(bootstrap: str, group: str, topic: str) -> int | None:
    """Records on `topic` not yet committed by `group` (None when Kafka does not answer)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    try:
        await consumer.start()
        await consumer._client.add_topic(topic)  # noqa: SLF001
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic)
                                                         or ())]
        ends = await consumer.end_offsets(tps)
        lag = 0
        for tp in tps:
            committed = await consumer.committed(tp)
            lag += max(0, ends[tp] - (committed or 0))
        return lag
    except Exception:  # noqa: BLE001 - a sampler must not fail the run
        return None
    finally:
        await consumer.stop()


async def produce(bootstrap: str, topic: str, values: list[tuple[bytes | None, bytes]]) -> None:
    """Raw records (key, value), bypassing every contract check (for hostile input)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for key, value in values:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
