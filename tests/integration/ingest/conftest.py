"""The ingest service against the real stack: an in-process app per module (isolated topics and
schema), a client, tokens, and consent published the way the policy service publishes it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.settings import AuthSettings, IdentitySettings, KafkaSettings
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    CONSENT,
    ConsentChanged,
    ConsentChangedData,
    Service,
    Topic,
    parse_event,
    utcnow,
)
from gemroll_ingest.adapters.postgres import PgConsentRepository
from gemroll_ingest.app import create_app
from gemroll_ingest.domain.consent import ConsentState
from gemroll_ingest.settings import IngestSettings
from gemroll_testkit import eventually
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate
from gemroll_testkit.topics import caught_up, end_offsets, read_topic

MB = 1024 * 1024


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    env: Isolated
    settings: IngestSettings
    kafka: KafkaSettings
    consent_publisher: EventPublisher
    auth: AuthSettings
    identity: IdentitySettings
    store: ObjectStore
    user_keys: set[str] = field(default_factory=set)

    @property
    def schema(self) -> str:
        return self.settings.db_schema

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    async def consent_state(self, key: str) -> ConsentState | None:
        """The projected consent of this user key."""
        return await PgConsentRepository(self.pool).get(key)

    def token(self, account: str) -> str:
        return issue_dev_token(account, self.auth)

    def headers(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(account)}"}

    def user_key(self, account: str) -> str:
        key = user_key(account, self.identity.user_key_secret.get_secret_value())
        self.user_keys.add(key)
        return key

    async def set_consent(
        self, account: str, *, camera_roll: bool = True, seq: int = 1, wait: bool = True
    ) -> None:
        """Publish ConsentChanged as the policy service does, and wait until it is projected."""
        key = self.user_key(account)
        event = ConsentChanged(producer="policy", data=ConsentChangedData(
            user_key=key, camera_roll=camera_roll, training_opt_out=False, ledger_seq=seq,
            changed_at=utcnow()))
        await self.consent_publisher.publish(CONSENT, event, key=key)
        if not wait:
            return

        async def projected() -> bool:
            state = await self.consent_state(key)
            return state is not None and state.ledger_seq >= seq

        await eventually(projected, "the consent projected")

    async def consumed(self, topic: Topic, group_name: str) -> None:
        """Wait until the ingest's consumer group has committed everything on `topic` so far."""
        bootstrap, name = self.env.kafka.bootstrap_servers, self.env.topic(topic)
        ends = await end_offsets(bootstrap, name)
        group = f"{group_name}{self.env.suffix}"
        await eventually(lambda: caught_up(bootstrap, group, name, ends), f"{group} to catch up")

    async def opted_in_user(self) -> str:
        account = f"acct-{uuid.uuid4().hex[:12]}"
        await self.set_consent(account)
        return account

    async def upload(
        self, account: str, data: bytes, *, metadata: str | None = None,
        filename: str = "photo.jpg",
    ) -> httpx.Response:
        files = {"file": (filename, data, "application/octet-stream")}
        form = {"metadata": metadata} if metadata is not None else None
        return await self.client.post("/v1/media", files=files, data=form,
                                      headers=self.headers(account))

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(query, *args))

    async def objects(self, account: str, kind: str = "media") -> list[str]:
        """Keys under `users/<user key>/<kind>/` in the bucket."""
        return await self.store.list_keys(f"users/{self.user_key(account)}/{kind}/")

    async def raw_events(
        self, topic: Topic, account: str, *, count: int = 1,
        where: Callable[[bytes], bool] = lambda _: True, timeout_s: float = 30.0,
    ) -> list[bytes]:
        """This user's records on the (isolated) topic, waiting until `count` match `where`."""
        key = self.user_key(account).encode()

        def mine(values: list[bytes]) -> list[bytes]:
            return [v for v in values if key in v and where(v)]

        values = await read_topic(self.env.kafka.bootstrap_servers, self.env.topic(topic),
                                  until=lambda v: len(mine(v)) >= count, timeout_s=timeout_s)
        return mine(values)

    async def events(self, topic: Topic, account: str, *, count: int = 1,
                     media_id: str | None = None) -> list[Any]:
        where = (lambda v: media_id.encode() in v) if media_id else (lambda _: True)
        return [parse_event(v) for v in
                await self.raw_events(topic, account, count=count, where=where)]


@asynccontextmanager
async def running_ingest(
    env: Isolated, *, kafka: KafkaSettings | None = None, schema: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start an ingest app in-process (lifespan included) with a client bound to it."""
    settings = IngestSettings(
        db_schema=schema or f"ingest{env.schema_suffix}", relay_idle_s=0.1,
        relay_max_backoff_s=1.0, **overrides)
    auth, identity = AuthSettings(), IdentitySettings()
    app = create_app(settings=settings, kafka=kafka or env.kafka, database=env.database,
                     s3=env.s3, auth=auth, identity=identity)
    policy_broker = make_broker(env.kafka, Service.policy)
    async with policy_broker, app.router.lifespan_context(app):
        await policy_broker.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest",
                                     timeout=60) as client:
            harness = Harness(
                app=app, client=client, env=env, settings=settings, kafka=kafka or env.kafka,
                consent_publisher=EventPublisher(policy_broker, env.kafka, Service.policy),
                auth=auth, identity=identity, store=ObjectStore(env.s3))
            yield harness
            for key in harness.user_keys:  # leave the shared bucket as we found it
                await harness.store.delete_prefix(f"users/{key}/")


async def drop_schema(env: Isolated, schema: str) -> None:
    conn = await asyncpg.connect(env.database.url.get_secret_value())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def ingest_env(stack) -> AsyncIterator[Isolated]:
    env = await isolate(stack, uuid.uuid4().hex[:8])
    yield env
    await drop_isolated(env)


@pytest.fixture(scope="module")
async def ingest(ingest_env) -> AsyncIterator[Harness]:
    """One running ingest per test module; tests use their own accounts."""
    async with running_ingest(ingest_env, max_upload_bytes=4 * MB,
                              max_video_bytes=8 * MB) as harness:
        await eventually(lambda: ready(harness.client), "the ingest to be ready")
        yield harness
    await drop_schema(ingest_env, harness.schema)


async def ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200
