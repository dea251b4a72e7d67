"""Every kind of transient failure is retried by the suggester's real consumers, never
dead-lettered; a failure that is not transient still ends in a dead letter.

One in-process suggester on the real stack (its own topics, schema and consumer groups). A
fault is injected at a repository behind the unit of work, for one user at a time: the
repository raises the fault more often than the runner's attempts for a non-transient
failure (so a kind wrongly judged final would be dead-lettered), then works.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from gemroll_common.consumer import FailurePolicy
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.retry import Backoff
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    USER_ACTIONS,
    Category,
    ConsentChanged,
    ConsentChangedData,
    DeadLetter,
    ErasureReason,
    Event,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    ModelInfo,
    Quality,
    Service,
    Topic,
    UserAction,
    UserActionData,
    subscription,
)
from gemroll_contracts.users import ActionKind
from gemroll_suggester.adapters.postgres.media import PostgresMedia
from gemroll_suggester.adapters.postgres.unit import PostgresConsent
from gemroll_suggester.app import create_app
from gemroll_suggester.settings import SuggesterSettings
from gemroll_testkit import eventually
from gemroll_testkit.faults import TRANSIENT_ERRORS, FailingTimes
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate
from gemroll_testkit.topics import read_records

pytestmark = pytest.mark.integration

POLICY = FailurePolicy(max_attempts=2, backoff=Backoff(0.01, 0.05))
"""Short waits; a failure that is not transient is dead-lettered at the second attempt."""
FAILURES = POLICY.max_attempts + 1
"""How often each fault is raised: more than a non-transient failure is given."""


@dataclass
class Faults:
    """Faults per user key, raised by the patched repositories before they do their work."""

    by_user: dict[str, FailingTimes] = field(default_factory=dict)

    def inject(self, user_key: str, error: Callable[[], BaseException],
               times: int = FAILURES) -> FailingTimes:
        self.by_user[user_key] = FailingTimes(error, times)
        return self.by_user[user_key]

    def check(self, user_key: str) -> None:
        if (fault := self.by_user.get(user_key)) is not None:
            fault()


@dataclass
class Suggester:
    env: Isolated
    schema: str
    faults: Faults
    publishers: dict[Service, EventPublisher]

    async def publish(self, topic: Topic, writer: Service, event: Event, user_key: str) -> None:
        await self.publishers[writer].publish(topic, event, key=user_key)

    async def row(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.env.database.url.get_secret_value())
        try:
            return await conn.fetchval(sql.format(schema=self.schema), *args)
        finally:
            await conn.close()

    async def dead_letters_of(self, event: Event) -> list[DeadLetter]:
        records = await read_records(self.env.kafka.bootstrap_servers,
                                     self.env.topic(DEAD_LETTERS))
        letters = [DeadLetter.from_json(r.value) for r in records if not r.tombstone]
        return [x for x in letters if str(event.event_id).encode() in x.data.original_value]


def _patch(monkeypatch: pytest.MonkeyPatch, faults: Faults) -> None:
    """Consent reads (consent changes), intake reads (classified photos) and the removed-media
    record (deletions, erasure) fail for the users given a fault."""
    consent_get, intake, add_removed = (PostgresConsent.get, PostgresMedia.intake,
                                        PostgresMedia.add_removed)

    async def failing_consent_get(self: PostgresConsent, user_key: str) -> Any:
        faults.check(user_key)
        return await consent_get(self, user_key)

    async def failing_intake(self: PostgresMedia, user_key: str, media_id: uuid.UUID) -> Any:
        faults.check(user_key)
        return await intake(self, user_key, media_id)

    async def failing_add_removed(self: PostgresMedia, user_key: str, media_ids: Any) -> None:
        faults.check(user_key)
        await add_removed(self, user_key, media_ids)

    monkeypatch.setattr(PostgresConsent, "get", failing_consent_get)
    monkeypatch.setattr(PostgresMedia, "intake", failing_intake)
    monkeypatch.setattr(PostgresMedia, "add_removed", failing_add_removed)


@pytest.fixture(scope="module")
async def suggester(stack) -> AsyncIterator[Suggester]:
    unique = uuid.uuid4().hex[:8]
    env = await isolate(stack, unique)
    settings = SuggesterSettings(db_schema=f"suggester{env.schema_suffix}", quiet_seconds=3600)
    faults = Faults()
    app = create_app(settings, kafka=env.kafka, database=env.database, s3=env.s3)
    broker = make_broker(env.kafka, "suggester-retry-tests")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _patch(monkeypatch, faults)
        async with app.router.lifespan_context(app), broker:
            app.state.runtime.consumers.policy = POLICY
            await broker.connect()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://suggester") as client:
                await eventually(lambda: _ready(client), "the suggester to be ready",
                                 timeout_s=40.0)
                yield Suggester(env, settings.db_schema, faults, {
                    writer: EventPublisher(broker, env.kafka, writer)
                    for writer in (Service.policy, Service.ingest, Service.classifier)})
    await drop_isolated(env)


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def _user() -> str:
    return uuid.uuid4().hex


def _consent(user_key: str, seq: int = 1) -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=user_key, camera_roll=True, training_opt_out=False, ledger_seq=seq,
        changed_at=datetime.now(UTC)))


def _classified(user_key: str) -> MediaClassified:
    media_id = uuid.uuid4()
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=user_key, bucket="gemroll-media",
        object_key=f"users/{user_key}/media/{media_id}.jpg", width=640, height=427,
        captured_at=datetime(2026, 3, 14, 13, 0, tzinfo=UTC), coarse_location="eycs2",
        category=Category.photo,
        quality=Quality(sharpness=0.8, exposure=0.7, noise=0.1, brightness=0.5),
        nsfw_score=0.0, face_count=0, embedding=[1.0, 0.0], gem_score=0.8, is_gem=True,
        model=ModelInfo(name="test", version="1")))


@pytest.mark.parametrize("kind", sorted(TRANSIENT_ERRORS))
async def test_a_consent_change_is_retried_through_each_transient_failure(suggester, kind):
    user = _user()
    fault = suggester.faults.inject(user, TRANSIENT_ERRORS[kind])
    change = _consent(user, seq=7)
    await suggester.publish(CONSENT, Service.policy, change, user)
    await eventually(
        lambda: suggester.row("SELECT ledger_seq FROM {schema}.consent WHERE user_key = $1",
                              user),
        f"the consent change to be stored after {FAILURES} {kind} failures", timeout_s=30.0,
        diagnostics=lambda: f"{fault.calls} attempts so far")
    assert fault.calls == FAILURES + 1
    assert await suggester.dead_letters_of(change) == []


async def test_each_consumer_retries_a_database_shutdown(suggester):
    """The other consumers: classified photos, deleted photos, erased photos."""
    admin_shutdown = TRANSIENT_ERRORS["pg_admin_shutdown"]
    photo, deleted, erased = _user(), _user(), _user()
    classified = _classified(photo)
    deletion = UserAction(producer="ingest", data=UserActionData(
        user_key=deleted, media_id=uuid.uuid4(), action=ActionKind.media_deleted,
        acted_at=datetime.now(UTC)))
    erasure = MediaErased(producer="policy", data=MediaErasedData(
        user_key=erased, media_ids=[uuid.uuid4()], reason=ErasureReason.media_deleted,
        erased_at=datetime.now(UTC)))
    cases = [
        (MEDIA_CLASSIFIED, Service.classifier, classified, photo,
         "SELECT count(*) FROM {schema}.media WHERE media_id = $1", classified.data.media_id),
        (USER_ACTIONS, Service.ingest, deletion, deleted,
         "SELECT count(*) FROM {schema}.removed_media WHERE media_id = $1",
         deletion.data.media_id),
        (MEDIA_ERASED, Service.policy, erasure, erased,
         "SELECT count(*) FROM {schema}.removed_media WHERE media_id = $1",
         erasure.data.media_ids[0]),
    ]
    faults = [suggester.faults.inject(user, admin_shutdown) for _, _, _, user, _, _ in cases]
    for topic, writer, event, user, _, _ in cases:
        await suggester.publish(topic, writer, event, user)
    for (topic, _, event, _, sql, media_id), fault in zip(cases, faults, strict=True):
        await eventually(lambda s=sql, m=media_id: suggester.row(s, m),
                         f"{topic.name} to be handled after {FAILURES} failures", timeout_s=30.0)
        assert fault.calls == FAILURES + 1
        assert await suggester.dead_letters_of(event) == []


async def test_a_failure_that_is_not_transient_is_dead_lettered_and_the_consumer_goes_on(
        suggester):
    broken, fine = _user(), _user()
    bug = suggester.faults.inject(broken, lambda: ValueError("a bug (injected)"), times=10**6)
    doomed, change = _consent(broken), _consent(fine)
    await suggester.publish(CONSENT, Service.policy, doomed, broken)
    await suggester.publish(CONSENT, Service.policy, change, fine)
    letters = await eventually(lambda: suggester.dead_letters_of(doomed),
                               "the dead letter of the failing consent change", timeout_s=30.0)
    assert len(letters) == 1
    letter = letters[0].data
    assert (letter.error_type, letter.attempts) == ("ValueError", POLICY.max_attempts)
    assert letter.consumer_group == subscription(Service.suggester, CONSENT).group + \
        suggester.env.suffix
    assert letter.source_topic == suggester.env.topic(CONSENT)
    assert bug.calls == POLICY.max_attempts
    await eventually(
        lambda: suggester.row("SELECT ledger_seq FROM {schema}.consent WHERE user_key = $1",
                              fine), "the next consent change to be stored", timeout_s=30.0)
    assert await suggester.row(
        "SELECT count(*) FROM {schema}.consent WHERE user_key = $1", broken) == 0
