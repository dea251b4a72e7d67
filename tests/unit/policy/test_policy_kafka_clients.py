"""The gate's producer places keys exactly where Kafka's default partitioner would."""

from __future__ import annotations

import os

from aiokafka.partitioner import DefaultPartitioner
from gemroll_common.kafka import aiokafka_client_kwargs as client_kwargs
from gemroll_common.kafka import key_partition
from gemroll_common.settings import KafkaSettings
from gemroll_policy.adapters.kafka_clients import CachedKeyPartitioner
from pydantic import SecretStr


def test_cached_partitioner_matches_the_default_one():
    cached, default = CachedKeyPartitioner(), DefaultPartitioner()
    for i in range(500):
        key, partitions = os.urandom(1 + i % 70), list(range(1 + i % 7))
        assert cached(key, partitions, partitions) == default(key, partitions, partitions)
        assert cached(key, partitions, partitions) == default(key, partitions, partitions)
    assert cached(None, [0, 1, 2], [1]) == 1  # no key: any available partition


def test_key_partition_is_where_the_default_partitioner_puts_a_key():
    """What read-your-writes (`gemroll_common.propagation`) relies on to find a record."""
    default = DefaultPartitioner()
    for i in range(500):
        key, partitions = os.urandom(1 + i % 70), list(range(1 + i % 12))
        assert key_partition(key, len(partitions)) == default(key, partitions, partitions)


def test_client_settings_follow_the_security_protocol():
    plain = client_kwargs(KafkaSettings(), "c")
    assert plain["security_protocol"] == "PLAINTEXT" and "sasl_mechanism" not in plain
    scram = client_kwargs(KafkaSettings(security_protocol="SASL_PLAINTEXT",
                                        sasl_username="gemroll-policy",
                                        sasl_password=SecretStr("pw")), "c")
    assert (scram["sasl_mechanism"], scram["sasl_plain_username"],
            scram["sasl_plain_password"]) == ("SCRAM-SHA-512", "gemroll-policy", "pw")
