"""The suggester running in-process against the real stack (Kafka, PostgreSQL, S3).

One app per test module (isolated topics, schema and consumer groups); each test uses its
own users, so tests do not see each other's suggestions.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.settings import AuthSettings, IdentitySettings
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    CONSENT,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    SUGGESTIONS,
    USER_ACTIONS,
    Category,
    ConsentChanged,
    ConsentChangedData,
    ErasureReason,
    Event,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    ModelInfo,
    Quality,
    Service,
    SuggestionCreated,
    Topic,
    UserAction,
    UserActionData,
    parse_event,
    subscription,
)
from gemroll_contracts.users import ActionKind
from gemroll_suggester.app import create_app
from gemroll_suggester.settings import SuggesterSettings
from gemroll_testkit import eventually, photos
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate
from gemroll_testkit.topics import caught_up, read_topic

T0 = datetime(2026, 3, 14, 13, 0, tzinfo=UTC)  # a Saturday afternoon
LISBON = "eycs2"
WAIT_S = 40.0
"""How long the in-process suggester may take to plan, render and publish."""


@dataclass
class User:
    account_id: str
    key: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Suggester:
    env: Isolated
    settings: SuggesterSettings
    client: httpx.AsyncClient
    store: ObjectStore
    classifier: EventPublisher
    ingest: EventPublisher
    policy: EventPublisher

    def new_user(self) -> User:
        account = f"user-{uuid.uuid4().hex[:10]}"
        return User(account, user_key(account, IdentitySettings().user_key_secret
                                      .get_secret_value()),
                    issue_dev_token(account, AuthSettings()))

    async def photo(self, user: User, *, minutes: float = 0, gem: bool = True,
                    gem_score: float = 0.8, nsfw: float | None = 0.02, seed: int = 0,
                    exposure: float = 0.0, size: tuple[int, int] = (640, 427),
                    where: str | None = LISBON, **scene: Any) -> MediaClassified:
        """Put a photo-like original into S3 and describe it as the classifier would."""
        media_id = uuid.uuid4()
        key = f"users/{user.key}/media/{media_id}.jpg"
        scene = photos.Scene(width=size[0], height=size[1], seed=seed, exposure_stops=exposure,
                             **scene)
        data = photos.jpeg(photos.render(scene))
        await self.store.put_bytes(key, data, "image/jpeg")
        return MediaClassified(producer="classifier", data=MediaClassifiedData(
            media_id=media_id, user_key=user.key, bucket=self.store.bucket, object_key=key,
            width=size[0], height=size[1], captured_at=T0 + timedelta(minutes=minutes),
            coarse_location=where, category=Category.photo,
            quality=Quality(sharpness=0.8, exposure=0.7, noise=0.1, brightness=0.5),
            nsfw_score=nsfw, face_count=0, embedding=unit_vector(seed),
            gem_score=gem_score, is_gem=gem, model=ModelInfo(name="test", version="1"),
        ))

    async def classified(self, *events: MediaClassified) -> None:
        for e in events:
            await self.classifier.publish(MEDIA_CLASSIFIED, e, key=e.data.user_key)

    async def delete(self, user: User, media_id: uuid.UUID) -> None:
        await self.ingest.publish(USER_ACTIONS, UserAction(producer="ingest", data=UserActionData(
            user_key=user.key, media_id=media_id, action=ActionKind.media_deleted,
            acted_at=datetime.now(UTC))), key=user.key)

    async def erase(self, user: User, media_ids: list[uuid.UUID]) -> None:
        await self.policy.publish(MEDIA_ERASED, MediaErased(producer="policy", data=MediaErasedData(
            user_key=user.key, media_ids=media_ids, reason=ErasureReason.media_deleted,
            erased_at=datetime.now(UTC))), key=user.key)

    async def consent(self, user: User, *, camera_roll: bool, seq: int) -> None:
        change = ConsentChanged(producer="policy", data=ConsentChangedData(
            user_key=user.key, camera_roll=camera_roll, training_opt_out=False, ledger_seq=seq,
            changed_at=datetime.now(UTC)))
        await self.policy.publish(CONSENT, change, key=user.key)

    async def suggestions(self, user: User, **params: str) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/suggestions", headers=user.auth,
                                         params={"limit": "100", **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def wait_for(self, user: User, check: Callable[[list[dict[str, Any]]], bool],
                       what: str, **params: str) -> list[dict[str, Any]]:
        async def probe() -> tuple[list[dict[str, Any]]] | None:
            items = await self.suggestions(user, **params)
            return (items,) if check(items) else None  # a tuple: an empty list is a result

        return (await eventually(probe, what, timeout_s=WAIT_S))[0]

    async def topic(self, topic: Topic, user: User, *, until: Callable[[list[Event]], bool]
                    = lambda _: False, timeout_s: float = 20.0) -> list[Any]:
        def mine(values: list[bytes]) -> list[Any]:
            events = [parse_event(v) for v in values]
            return [e for e in events if getattr(e.data, "user_key", None) == user.key]

        values = await read_topic(self.env.kafka.bootstrap_servers, self.env.topic(topic),
                                  until=lambda vs: until(mine(vs)), timeout_s=timeout_s)
        return mine(values)

    async def created(self, user: User, **kw: Any) -> list[SuggestionCreated]:
        return await self.topic(SUGGESTIONS, user, **kw)

    def group(self, topic: Topic) -> str:
        """The suggester's consumer group for `topic` (the registry's, plus the suffix)."""
        return subscription(Service.suggester, topic).group + self.env.suffix

    async def quiescent(self) -> None:
        """Everything published so far is consumed, planned and relayed."""
        bootstrap = self.env.kafka.bootstrap_servers

        async def consumed() -> bool:
            for topic in (MEDIA_CLASSIFIED, CONSENT, USER_ACTIONS, MEDIA_ERASED):
                if not await caught_up(bootstrap, self.group(topic), self.env.topic(topic)):
                    return False
            return True

        async def idle() -> bool:
            if not await consumed():
                return False
            conn = await asyncpg.connect(self.env.database.url.get_secret_value())
            try:
                schema = self.settings.db_schema
                pending = await conn.fetchval(
                    f"SELECT (SELECT count(*) FROM {schema}.outbox)"
                    f" + (SELECT count(*) FROM {schema}.events WHERE dirty)")
            finally:
                await conn.close()
            return pending == 0

        await eventually(idle, "the suggester to go quiet", timeout_s=WAIT_S)


def unit_vector(seed: int, dims: int = 16) -> list[float]:
    import random

    rng = random.Random(seed)
    v = [rng.gauss(0, 1) for _ in range(dims)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


def jpeg_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.size


@pytest.fixture(scope="module")
async def suggester(stack) -> AsyncIterator[Suggester]:
    unique = uuid.uuid4().hex[:8]
    env = await isolate(stack, unique)
    settings = SuggesterSettings(
        db_schema=f"suggester{env.schema_suffix}",
        quiet_seconds=1.0, planner_interval_seconds=0.1, outbox_interval_seconds=0.1,
        preview_max_side=480, collage_width=640, cover_width=480, highlight_min=3,
        memories_interval_seconds=1.0,
    )
    app = create_app(settings, kafka=env.kafka, database=env.database, s3=env.s3)
    broker = make_broker(env.kafka, "suggester-tests")
    store = ObjectStore(env.s3)
    async with app.router.lifespan_context(app), broker:
        await broker.connect()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://suggester") as client:
            fixture = Suggester(env, settings, client, store,
                                EventPublisher(broker, env.kafka, Service.classifier),
                                EventPublisher(broker, env.kafka, Service.ingest),
                                EventPublisher(broker, env.kafka, Service.policy))
            await eventually(lambda: _ready(client), "the suggester to be ready",
                             timeout_s=WAIT_S)
            yield fixture
    await drop_isolated(env)


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200
