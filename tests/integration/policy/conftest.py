"""A harness for the policy service against the real stack, isolated per test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.settings import AuthSettings, DatabaseSettings, IdentitySettings
from gemroll_common.storage import ObjectStore
from gemroll_contracts import Event, Topic, TrainingCandidate
from gemroll_dev.testkit import Isolated, gps_tagged_jpeg, isolate, read_topic
from gemroll_policy.app import create_app
from gemroll_policy.domain import Pseudonymizer
from gemroll_policy.settings import PolicySettings


class PolicyHarness:
    def __init__(self, env: Isolated, database_url: str) -> None:
        self.env = env
        self.database_url = database_url
        self.schema = f"policy{env.schema_suffix}"
        self.settings = PolicySettings(db_schema=self.schema, erasure_interval_s=0.2,
                                       monitor_interval_s=0.5, db_retry_max_s=0.5)
        self.auth = AuthSettings()
        self.identity = IdentitySettings()

    def app(self, *, database: DatabaseSettings | None = None, **kwargs: Any) -> FastAPI:
        settings = kwargs.pop("settings", self.settings)
        return create_app(settings, kafka=self.env.kafka, database=database or self.env.database,
                          s3=self.env.s3, auth=self.auth, identity=self.identity, **kwargs)

    @property
    def pseudonyms(self) -> Pseudonymizer:
        return Pseudonymizer(self.settings.pseudonym_secret.get_secret_value())

    def media(self, media_id: UUID) -> str:
        """A media id as the training topics carry it (opaque)."""
        return str(self.pseudonyms.opaque("media", media_id))

    def training_id(self, candidate_id: UUID) -> str:
        """A candidate id as the training topics carry it (opaque)."""
        return str(self.pseudonyms.training_id(candidate_id))

    def user_key(self, account: str) -> str:
        return user_key(account, self.identity.user_key_secret.get_secret_value())

    def headers(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(account, self.auth)}"}

    async def produce(self, topic: Topic, events: list[Event]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.env.kafka.bootstrap_servers,
                                    linger_ms=5, enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                key = getattr(event.data, "user_key", None)
                await producer.send(self.env.topic(topic), event.to_json(),
                                    key=key.encode() if key else None)
            await producer.flush()
        finally:
            await producer.stop()

    async def read(self, topic: Topic, *, count: int = 1, timeout_s: float = 30.0
                   ) -> list[bytes]:
        """Committed records of `topic`, once at least `count` are there (or the timeout)."""
        return await read_topic(self.env.kafka.bootstrap_servers, self.env.topic(topic),
                                until=lambda v: len(v) >= count, timeout_s=timeout_s)

    async def put_sources(self, candidates: list[TrainingCandidate]) -> None:
        """Upload the images the candidates point at (the gate copies them on admission)."""
        store = ObjectStore(self.env.s3)
        limit = asyncio.Semaphore(16)

        photo = gps_tagged_jpeg()

        async def put(key: str) -> None:
            async with limit:
                await store.put_bytes(key, photo, "image/jpeg")

        await asyncio.gather(*(put(k) for k in {c.data.object_key for c in candidates}))

    async def connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.database_url)
        await conn.execute(f"SET search_path TO {self.schema}")
        return conn

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.connect()
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 30.0,
                     every_s: float = 0.1) -> Any:
    """Await `check()` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(every_s)
    raise AssertionError(f"condition not met in {timeout_s}s (last value: {value!r})")


@pytest.fixture
def wait_until():
    return eventually


@pytest.fixture
async def policy(stack, unique) -> AsyncIterator[PolicyHarness]:
    env = await isolate(stack, unique)
    harness = PolicyHarness(env, stack.database_url)
    yield harness
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {harness.schema} CASCADE")
    finally:
        await conn.close()

