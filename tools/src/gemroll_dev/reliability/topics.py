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


async def group_lags(bootstrap: str, groups: dict[str, list[str]]) -> dict[str, int | None]:
    """Per consumer group: records on its topics not yet committed (None when Kafka does not
    answer). Transaction markers do not count (see `_data_records_between`)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                request_timeout_ms=10_000)
    out: dict[str, int | None] = {}
    try:
        await admin.start()
        await consumer.start()
        tps: list[TopicPartition] = []
        for topic in {t for topics in groups.values() for t in topics}:
            await consumer._client.add_topic(topic)  # noqa: SLF001
            tps += [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(tps)
        for group, topics in groups.items():
            try:
                committed = await admin.list_consumer_group_offsets(group)
                behind = {}
                for tp in (tp for tp in tps if tp.topic in topics):
                    meta = committed.get(tp)
                    start = meta.offset if meta is not None and meta.offset >= 0 else 0
                    if start < ends[tp]:
                        behind[tp] = start
                out[group] = (await _data_records_between(bootstrap, behind, ends)
                              if behind else 0)
            except Exception:  # noqa: BLE001 - a sampler must not fail the run
                out[group] = None
    except Exception:  # noqa: BLE001
        return {g: None for g in groups}
    finally:
        await consumer.stop()
        await admin.close()
    return out


async def _data_records_between(bootstrap: str, starts: dict[TopicPartition, int],
                                ends: dict[TopicPartition, int]) -> int:
    """Records from `starts` up to `ends`, not counting transaction markers (a consumer that
    commits `last offset + 1` stays one marker short of the end offset of a transactional
    topic, which is no lag)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                              isolation_level="read_committed")
    await reader.start()
    try:
        reader.assign(list(starts))
        for tp, offset in starts.items():
            reader.seek(tp, offset)
        count = 0
        deadline = time.monotonic() + 10.0
        while [tp for tp in starts if await reader.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                break
            batch = await reader.getmany(timeout_ms=200)
            count += sum(len([r for r in recs if r.offset < ends[tp]])
                         for tp, recs in batch.items())
        return count
    finally:
        await reader.stop()


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
