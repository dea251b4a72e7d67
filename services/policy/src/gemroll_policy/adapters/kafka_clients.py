"""Plain aiokafka clients configured like the rest of gemroll (TLS, SASL/SCRAM as set)."""

from __future__ import annotations

from typing import Any

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
