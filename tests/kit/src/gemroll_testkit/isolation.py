"""Settings for the shared stack with names private to one test: topics, schemas, groups."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from gemroll_common.settings import DatabaseSettings, KafkaSettings, S3Settings
from gemroll_contracts import ALL_TOPICS, Topic
from gemroll_dev.stack.config import StackEndpoints
from gemroll_dev.stack.kafka import (
    delete_topics,
    ensure_topics,
    isolated_suffix,
    prune_isolated_topics,
)
from pydantic import SecretStr

_live: set[str] = set()
"""Suffixes of the envs this process created and has not dropped (`prune_isolated` keeps them)."""


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

    def topic_names(self) -> set[str]:
        """The names of all its topics (every contract topic with its suffix)."""
        return {self.topic(t) for t in ALL_TOPICS}

    def as_env(self) -> dict[str, str]:
        """The environment a service process reads these settings from."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "KAFKA_TOPIC_SUFFIX": self.suffix,
            "DATABASE_URL": self.database.url.get_secret_value(),
            "S3_ENDPOINT": self.s3.endpoint,
            "S3_ACCESS_KEY": self.s3.access_key.get_secret_value(),
            "S3_SECRET_KEY": self.s3.secret_key.get_secret_value(),
            "S3_BUCKET": self.s3.bucket,
        }


def isolated(stack: StackEndpoints, *, suffix: str, schema_suffix: str) -> Isolated:
    """Settings for `stack` whose topic names end in `suffix` (nothing is created)."""
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
        schema_suffix=schema_suffix,
    )


async def isolate(stack: StackEndpoints, unique: str) -> Isolated:
    """Settings private to one test (`unique` in every name), its topics created."""
    suffix = isolated_suffix(unique)
    _live.add(suffix)
    await ensure_topics(stack.kafka_bootstrap, ALL_TOPICS, suffix=suffix)
    return isolated(stack, suffix=suffix, schema_suffix=f"_t{unique}")


async def drop_isolated(env: Isolated) -> None:
    """Delete the env's topics in one request (teardown). Topics already gone are fine; a
    broker that is unreachable or refuses only warns, so the teardown goes on."""
    _live.discard(env.suffix)
    try:
        await delete_topics(env.kafka.bootstrap_servers, sorted(env.topic_names()))
    except Exception as exc:  # noqa: BLE001 - cleanup is best effort; `prune_isolated` is later
        warnings.warn(f"could not delete the topics *{env.suffix}: {exc!r}", stacklevel=2)


async def prune_isolated(stack: StackEndpoints) -> list[str]:
    """Delete the isolated test topics on the stack that killed runs left (not the envs this
    process has live; those of another session still running go too). Returns the deleted."""
    keep = {t.name + suffix for suffix in _live for t in ALL_TOPICS}
    return await prune_isolated_topics(stack.kafka_bootstrap, keep)
