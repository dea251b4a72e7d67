"""Kafka topics seen from a test: read back from the beginning (read_committed), offsets,
consumer lag, and raw records in (bypassing every contract check)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    """b"" for a tombstone."""
    timestamp_ms: int
    tombstone: bool = False


async def read_records(bootstrap: str, topic: str, *,
                       until: Callable[[list[Record]], bool] | None = None,
                       timeout_s: float = 60.0, read_committed: bool = True) -> list[Record]:
    """Every record of `topic` from the beginning.

    Without `until`: up to the end offsets seen at the start (TimeoutError when they are not
    reached in `timeout_s`). With `until`: until `until(records)` holds or the timeout passes,
    then what there is (callers assert on it)."""
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
        ends = await consumer.end_offsets(tps) if until is None else {}
        deadline = time.monotonic() + timeout_s
        while True:
            if until is None:
                if not [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {topic}: not at its end after {timeout_s:.0f}s")
            elif time.monotonic() > deadline:
                break
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                out.extend(Record(r.topic, r.partition, r.offset, r.key, r.value or b"",
                                  r.timestamp, r.value is None) for r in records)
            if until is not None and until(out):
                break
    finally:
        await consumer.stop()
    return out


def _values(records: list[Record]) -> list[bytes]:
    return [r.value for r in records if not r.tombstone]


async def read_topic(bootstrap: str, topic: str, *,
                     until: Callable[[list[bytes]], bool] = lambda _: False,
                     timeout_s: float = 20.0, read_committed: bool = True) -> list[bytes]:
    """The values of `topic` from the beginning (tombstones left out), read until
    `until(values)` holds or the timeout passes (then what there is)."""
    records = await read_records(bootstrap, topic, until=lambda rs: until(_values(rs)),
                                 timeout_s=timeout_s, read_committed=read_committed)
    return _values(records)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic)
                                                         or ())]
        return {tp.partition: off for tp, off in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


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


async def caught_up(bootstrap: str, group: str, topic: str,
                    ends: dict[int, int] | None = None) -> bool:
    """Whether `group` has committed `topic` up to `ends` (default: its end offsets now)."""
    ends = await end_offsets(bootstrap, topic) if ends is None else ends
    committed = await committed_offsets(bootstrap, group, topic)
    return all((committed.get(p) or 0) >= end for p, end in ends.items())


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


async def produce(bootstrap: str, topic: str, *values: bytes, key: bytes | None = None) -> None:
    """Raw records, in order, bypassing every contract check (for malformed input)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
