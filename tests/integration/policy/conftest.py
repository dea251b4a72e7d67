"""A harness for the policy service against the real stack, isolated per test."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
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
from gemroll_contracts import (
    TRAINING_CANDIDATES,
    Event,
    Service,
    Topic,
    TrainingCandidate,
    subscription,
)
from gemroll_policy.app import create_app
from gemroll_policy.domain import Pseudonymizer
from gemroll_policy.settings import PolicySettings
from gemroll_testkit import photos
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate
from gemroll_testkit.topics import read_topic


class PolicyHarness:
    def __init__(self, env: Isolated, database_url: str) -> None:
        self.env = env
        self.database_url = database_url
        self.schema = f"policy{env.schema_suffix}"
        # Only the policy runs here: no other service would ever put a consent in effect.
        self.settings = PolicySettings(db_schema=self.schema, erasure_interval_s=0.2,
                                       monitor_interval_s=0.5, db_retry_max_s=0.5,
                                       consent_in_effect_timeout_s=0)
        self.auth = AuthSettings()
        self.identity = IdentitySettings()

    def app(self, *, database: DatabaseSettings | None = None, **kwargs: Any) -> FastAPI:
        settings = kwargs.pop("settings", self.settings)
        return create_app(settings, kafka=self.env.kafka, database=database or self.env.database,
                          s3=self.env.s3, auth=self.auth, identity=self.identity, **kwargs)

    @property
    def gate_group(self) -> str:
        """The gate's consumer group on this test's topics (the registry's name)."""
        return subscription(Service.policy, TRAINING_CANDIDATES).group + self.env.suffix

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

        photo = photos.phone_jpeg()

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


@contextlib.asynccontextmanager
async def harness(stack, unique: str) -> AsyncIterator[PolicyHarness]:
    """Topics and a schema of their own; the schema is dropped afterwards."""
    env = await isolate(stack, unique)
    policy = PolicyHarness(env, stack.database_url)
    try:
        yield policy
    finally:
        await drop_isolated(env)
        conn = await asyncpg.connect(stack.database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {policy.schema} CASCADE")
        finally:
            await conn.close()


@pytest.fixture
async def policy(stack, unique) -> AsyncIterator[PolicyHarness]:
    async with harness(stack, unique) as policy:
        yield policy


@pytest.fixture(scope="module")
async def module_policy(stack) -> AsyncIterator[PolicyHarness]:
    """One harness shared by the tests of a module."""
    async with harness(stack, uuid.uuid4().hex[:8]) as policy:
        yield policy
