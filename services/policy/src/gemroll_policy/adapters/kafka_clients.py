"""Plain aiokafka clients configured like the rest of gemroll (TLS, SASL/SCRAM as set)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from gemroll_common.kafka import aiokafka_client_kwargs, key_partition
from gemroll_common.settings import KafkaSettings


class CachedKeyPartitioner:
    """Kafka's default partitioning by key (murmur2, like the Java client), remembered per
    key: aiokafka's murmur2 is pure Python and training events repeat the same few keys."""

    _MAX = 100_000

    def __init__(self) -> None:
        self._default = DefaultPartitioner()
        self._index: dict[tuple[bytes, int], int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int],
                 available: list[int]) -> int:
        if key is None:
            return self._default(key, all_partitions, available)
        n = len(all_partitions)
        index = self._index.get((key, n))
        if index is None:
            if len(self._index) >= self._MAX:
                self._index.clear()
            index = key_partition(key, n)
            self._index[(key, n)] = index
        return all_partitions[index]


def transactional_producer(settings: KafkaSettings, transactional_id: str) -> AIOKafkaProducer:
    """The gate's producer: starting it fences any older one with the same id."""
    return AIOKafkaProducer(
        **aiokafka_client_kwargs(settings, "gemroll-policy-gate"),
        transactional_id=transactional_id, enable_idempotence=True, acks="all",
        linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000,
        partitioner=CachedKeyPartitioner(),
    )


def committed_consumer(settings: KafkaSettings, topics: Iterable[str],
                       group: str) -> AIOKafkaConsumer:
    """The gate's consumer: committed records only; offsets commit in the gate's transactions."""
    return AIOKafkaConsumer(
        *topics, **aiokafka_client_kwargs(settings, "gemroll-policy-gate"),
        group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
        isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024,
    )
