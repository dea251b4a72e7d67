"""Plain aiokafka clients configured like the rest of gemroll (TLS, SASL/SCRAM as set)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner, murmur2
from gemroll_common.settings import KafkaSettings


def client_kwargs(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "client_id": client_id,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile)
    if settings.security_protocol.startswith("SASL"):
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = (settings.sasl_password.get_secret_value()
                                         if settings.sasl_password else None)
    return kwargs


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
            index = (murmur2(key) & 0x7FFFFFFF) % n
            self._index[(key, n)] = index
        return all_partitions[index]


def transactional_producer(settings: KafkaSettings, transactional_id: str) -> AIOKafkaProducer:
    """The gate's producer: starting it fences any older one with the same id."""
    return AIOKafkaProducer(
        **client_kwargs(settings, "gemroll-policy-gate"),
        transactional_id=transactional_id, enable_idempotence=True, acks="all",
        linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000,
        partitioner=CachedKeyPartitioner(),
    )


def committed_consumer(settings: KafkaSettings, topics: Iterable[str],
                       group: str) -> AIOKafkaConsumer:
    """The gate's consumer: committed records only; offsets commit in the gate's transactions."""
    return AIOKafkaConsumer(
        *topics, **client_kwargs(settings, "gemroll-policy-gate"),
        group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
        isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024,
    )
