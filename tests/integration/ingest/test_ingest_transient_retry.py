"""Every kind of transient failure, injected into the running ingest's consumers at its media
repository (the real PostgreSQL adapter, made to fail first): each classification (pipeline
status) and each erasure is retried until it goes through, and nothing is dead-lettered. A
bug injected the same way still ends in a dead letter.

One app for all kinds: each record carries one kind. The runner gives up on a non-transient
failure after a single attempt here, so every retry seen is the transient classification
(`gemroll_common.errors.is_transient`) at work, not the bounded retries for bugs."""

from __future__ import annotations

import uuid

import pytest
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    Category,
    DeadLetter,
    ErasureReason,
    MediaClassified,
    MediaClassifiedData,
    MediaErased,
    MediaErasedData,
    ModelInfo,
    Service,
    utcnow,
)
from gemroll_ingest.adapters import postgres
from gemroll_testkit import eventually
from gemroll_testkit.faults import (
    RETRY_ONLY_TRANSIENT,
    TRANSIENT_ERRORS,
    FailingTimes,
    Faults,
    bug,
)
from gemroll_testkit.topics import read_records, read_topic

from .conftest import drop_schema, ready, running_ingest

pytestmark = pytest.mark.integration

KINDS = sorted(TRANSIENT_ERRORS)


def flaky_media(faults: Faults) -> type[postgres.PgMediaRepository]:
    class FlakyMedia(postgres.PgMediaRepository):
        """The real repository; the pipeline status and the erasure fail first."""

        async def record_verdict(self, media_id, verdict):  # noqa: ANN001, ANN202
            faults.inject([media_id])
            return await super().record_verdict(media_id, verdict)

        async def erasable(self, user_key, media_ids):  # noqa: ANN001, ANN202
            faults.inject(media_ids)
            return await super().erasable(user_key, media_ids)

    return FlakyMedia


def classified(user: str, media_id: uuid.UUID) -> MediaClassified:
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=user, bucket="gemroll-media",
        object_key=f"users/{user}/media/{media_id}", width=4, height=3,
        category=Category.photo, gem_score=0.5, is_gem=False,
        model=ModelInfo(name="test", version="1")))


def erased(user: str, media_id: uuid.UUID) -> MediaErased:
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=user, media_ids=[media_id], reason=ErasureReason.media_deleted,
        erased_at=utcnow()))


async def test_every_transient_failure_is_retried_never_dead_lettered(isolated_env,
                                                                        monkeypatch):
    env = isolated_env
    faults = Faults()
    monkeypatch.setattr(postgres, "PgMediaRepository", flaky_media(faults))
    user = uuid.uuid4().hex
    media = {kind: uuid.uuid4() for kind in [*KINDS, "bug"]}
    broker = make_broker(env.kafka, "test")
    classifier = EventPublisher(broker, env.kafka, Service.classifier)
    policy = EventPublisher(broker, env.kafka, Service.policy)

    async with broker, running_ingest(env) as ingest:
        await broker.connect()
        ingest.app.state.runtime.consumers.policy = RETRY_ONLY_TRANSIENT
        await eventually(lambda: ready(ingest.client), "the ingest to be ready")
        for media_id in media.values():  # accepted photos (their objects do not matter here)
            await ingest.sql(
                "INSERT INTO media (media_id, user_key, state, source, object_key,"
                " content_type, size_bytes, sha256, width, height) VALUES ($1, $2, 'accepted',"
                " 'direct', $3, 'image/jpeg', 10, $4, 4, 3)", media_id, user,
                f"users/{user}/media/{media_id}", media_id.hex * 2)

        async def states(column: str) -> dict[uuid.UUID, object]:
            rows = await ingest.sql(f"SELECT media_id, {column} AS v FROM media"
                                    " WHERE user_key = $1", user)
            return {r["media_id"]: r["v"] for r in rows}

        # The pipeline status: one classification per kind.
        for kind in KINDS:
            faults.by_item[media[kind]] = FailingTimes(TRANSIENT_ERRORS[kind])
            await classifier.publish(MEDIA_CLASSIFIED, classified(user, media[kind]), key=user)

        async def all_classified() -> bool:
            done = await states("classified_at")
            return all(done[media[kind]] is not None for kind in KINDS)

        await eventually(all_classified, "every classification through its outage", timeout_s=60)
        for kind in KINDS:
            assert faults.by_item[media[kind]].calls >= 3, f"{kind}: not retried"

        # Erasures: one per kind.
        for kind in KINDS:
            faults.by_item[media[kind]] = FailingTimes(TRANSIENT_ERRORS[kind])
            await policy.publish(MEDIA_ERASED, erased(user, media[kind]), key=user)

        async def all_erased() -> bool:
            done = await states("state")
            return all(done[media[kind]] == "erased" for kind in KINDS)

        await eventually(all_erased, "every erasure through its outage", timeout_s=60)
        for kind in KINDS:
            assert faults.by_item[media[kind]].calls >= 3, f"{kind}: erasure not retried"

        # A bug (not transient) still ends in a dead letter: a classification and an erasure.
        bug_erasure = erased(user, uuid.uuid4())
        faults.by_item[media["bug"]] = FailingTimes(bug, times=1000)
        faults.by_item[bug_erasure.data.media_ids[0]] = FailingTimes(bug, times=1000)
        bug_verdict = classified(user, media["bug"])
        await classifier.publish(MEDIA_CLASSIFIED, bug_verdict, key=user)
        await policy.publish(MEDIA_ERASED, bug_erasure, key=user)
        await read_topic(env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS),
                         until=lambda v: len(v) >= 2, timeout_s=60)
        assert (await states("classified_at"))[media["bug"]] is None

    letters = [DeadLetter.from_json(r.value) for r in await read_records(  # all of them
        env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS))]
    assert sorted((lt.data.source_topic, lt.data.error_type) for lt in letters) == [
        (env.topic(MEDIA_CLASSIFIED), "ValueError"), (env.topic(MEDIA_ERASED), "ValueError")]
    assert {lt.data.original_value for lt in letters} == {bug_verdict.to_json(),
                                                         bug_erasure.to_json()}
    assert {lt.data.consumer_group for lt in letters} == {
        f"ingest.pipeline-status{env.suffix}", f"ingest.erasure{env.suffix}"}
    await drop_schema(env, f"ingest{env.schema_suffix}")
