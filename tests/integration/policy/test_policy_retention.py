"""Retention: the scheduled job erases media never saved or shared after the retention period
(default 30 days) and settles candidates held too long. The clock is injected."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_ERASED,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    MediaErased,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.events import action, candidate

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_media_never_saved_or_shared_is_erased_after_the_retention_period(
        policy):
    clock = Clock()
    settings = policy.settings.model_copy(update={"retention_interval_s": 0.2})
    assert settings.retention_days == 30
    app = policy.app(settings=settings, clock=clock)
    store = ObjectStore(policy.env.s3)
    user = policy.user_key("hana")
    forgotten, saved, shared = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for media in (forgotten, saved, shared):
        await store.put_bytes(f"users/{user}/media/{media}", photos.phone_jpeg(), "image/jpeg")

    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.put("/v1/consent", json={"camera_roll": True},
                         headers=policy.headers("hana"))
        await policy.produce(USER_ACTIONS, [
            action(user, saved, ActionKind.saved, acted_at=clock.now),
            action(user, shared, ActionKind.shared, acted_at=clock.now)])
        await policy.produce(TRAINING_CANDIDATES, [
            candidate(user, m, proposed_at=clock.now) for m in (forgotten, saved, shared)])
        [admitted] = await policy.read(TRAINING_MEDIA)
        assert json.loads(admitted)["data"]["media_id"] == policy.media(shared)

        async def pending() -> int:
            rows = await policy.query("SELECT 1 FROM candidates WHERE status = 'pending'")
            return len(rows) == 2

        await eventually(pending)
        clock.now += timedelta(days=29)
        assert await app.state.gate_handler.sweep() == []  # not yet
        clock.now += timedelta(days=1, seconds=1)  # the scheduled job takes it from here

        [erased] = [MediaErased.from_json(v) for v in await policy.read(MEDIA_ERASED)]
        assert erased.data.media_ids == [forgotten]
        assert erased.data.reason.value == "retention_expired"
        rejected = {json.loads(v)["data"]["media_id"]: json.loads(v)["data"]["reason"]
                    for v in await policy.read(TRAINING_DECISIONS, count=2)}
        assert rejected == {policy.media(forgotten): "retention_expired",
                            policy.media(saved): "no_qualifying_action"}

        async def objects_gone() -> bool:
            return not await store.exists(f"users/{user}/media/{forgotten}")

        await eventually(objects_gone)
        assert await store.exists(f"users/{user}/media/{saved}")
        assert await store.exists(f"users/{user}/media/{shared}")
        media = {r["media_id"] for r in await policy.query("SELECT media_id FROM media")}
        assert media == {saved, shared}
        assert await policy.query("SELECT 1 FROM candidates WHERE status = 'pending'") == []
        # the admitted, shared item is still admitted
        assert len(await policy.read(TRAINING_MEDIA, count=2, timeout_s=2)) == 1
