"""Every kind of transient failure, injected into the running classifier at its results
repository (the real PostgreSQL adapter, made to fail first): each upload batch and each
erasure is retried until it goes through, once, and nothing is dead-lettered. A bug injected
the same way still ends in a dead letter.

One app for all kinds: uploads and erasures carry one kind each. The runner may give up on a
non-transient failure after a single attempt here, so every retry seen is the transient
classification at work, not the bounded retries for bugs."""

from __future__ import annotations

import uuid
from collections import Counter

import asyncpg
import pytest
from gemroll_classifier import app as classifier_app
from gemroll_classifier.adapters.postgres import PostgresResults
from gemroll_classifier.app import create_app
from gemroll_classifier.settings import ClassifierSettings
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    DeadLetter,
    ErasureReason,
    MediaClassified,
    MediaErased,
    MediaErasedData,
    Service,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.faults import (
    RETRY_ONLY_TRANSIENT,
    TRANSIENT_ERRORS,
    FailingTimes,
    Faults,
    bug,
)
from gemroll_testkit.topics import read_records, read_topic

from .test_classifier_service import T0, uploaded

pytestmark = pytest.mark.integration

KINDS = sorted(TRANSIENT_ERRORS)
def flaky_results(faults: Faults) -> type[PostgresResults]:
    class FlakyResults(PostgresResults):
        """The real repository; each batch's first call and each erasure fail first."""

        async def stored(self, media_ids):  # noqa: ANN001, ANN202
            faults.inject(media_ids)
            return await super().stored(media_ids)

        async def erase(self, user_key, media_ids, *, account=False):  # noqa: ANN001, ANN202
            faults.inject(media_ids)
            return await super().erase(user_key, media_ids, account=account)

    return FlakyResults


def erased(user: str, media_id: uuid.UUID) -> MediaErased:
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=user, media_ids=[media_id], reason=ErasureReason.media_deleted, erased_at=T0))


async def test_every_transient_failure_is_retried_never_dead_lettered(
        isolated_env, unique, classifier_models, monkeypatch):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    faults = Faults()
    monkeypatch.setattr(classifier_app, "PostgresResults", flaky_results(faults))
    real_subscribe = classifier_app.subscribe

    def subscribe_fast(consumers, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        consumers.policy = RETRY_ONLY_TRANSIENT
        return real_subscribe(consumers, *args, **kwargs)

    monkeypatch.setattr(classifier_app, "subscribe", subscribe_fast)

    store = ObjectStore(env.s3)
    user = uuid.uuid4().hex
    prefix = f"test-classifier-transient/{unique}"
    uploads = {}
    for i, kind in enumerate([*KINDS, "bug"]):
        photo = photos.photo_jpeg(i, (320, 240))
        uploads[kind] = uploaded(user, kind, "jpg", photo, prefix, i)
        await store.put_bytes(uploads[kind].data.object_key, photo, "image/jpeg")
    for kind in KINDS:
        faults.by_item[uploads[kind].data.media_id] = FailingTimes(TRANSIENT_ERRORS[kind])

    settings = ClassifierSettings(db_schema=schema, device="cpu", threads=2, batch_max=32,
                                  batch_timeout_ms=200)
    app = create_app(settings, env.kafka, env.database, env.s3, models=classifier_models)
    broker = make_broker(env.kafka, "test")
    ingest = EventPublisher(broker, env.kafka, Service.ingest)
    policy = EventPublisher(broker, env.kafka, Service.policy)
    conn = await asyncpg.connect(env.database.url.get_secret_value())

    async def tombstones() -> set[uuid.UUID]:
        try:
            return {r["media_id"] for r in await conn.fetch(
                f"SELECT media_id FROM {schema}.erased_media")}
        except asyncpg.UndefinedTableError:
            return set()

    try:
        async with broker, app.router.lifespan_context(app):
            await broker.connect()
            for kind in KINDS:
                await ingest.publish(MEDIA_UPLOADED, uploads[kind], key=user)
            classified = [MediaClassified.from_json(v) for v in await read_topic(
                env.kafka.bootstrap_servers, env.topic(MEDIA_CLASSIFIED),
                until=lambda v: len(v) >= len(KINDS), timeout_s=120)]
            per_media = Counter(e.data.media_id for e in classified)
            for kind in KINDS:
                media_id = uploads[kind].data.media_id
                assert per_media[media_id] == 1, f"{kind}: classified {per_media[media_id]}x"
                assert faults.by_item[media_id].calls >= 3, f"{kind}: not retried"

            # Erasures: each kind on one erasure, for one of the classified media.
            erasures = {kind: erased(user, uploads[kind].data.media_id) for kind in KINDS}
            for kind, erasure in erasures.items():
                faults.by_item[erasure.data.media_ids[0]] = FailingTimes(TRANSIENT_ERRORS[kind])
                await policy.publish(MEDIA_ERASED, erasure, key=user)
            all_ids = {uploads[kind].data.media_id for kind in KINDS}

            async def all_erased() -> bool:
                return all_ids <= await tombstones()
            await eventually(all_erased, "every erasure through its outage", timeout_s=60)
            left = await conn.fetchval(
                f"SELECT count(*) FROM {schema}.media_results WHERE user_key = $1", user)
            assert left == 0
            for kind in KINDS:
                calls = faults.by_item[uploads[kind].data.media_id].calls
                assert calls >= 3, f"{kind}: erasure not retried ({calls} calls)"

            # A bug (not transient) still ends in a dead letter: an upload and an erasure.
            bug_erasure = erased(user, uuid.uuid4())
            faults.by_item[uploads["bug"].data.media_id] = FailingTimes(bug, times=1000)
            faults.by_item[bug_erasure.data.media_ids[0]] = FailingTimes(bug, times=1000)
            await ingest.publish(MEDIA_UPLOADED, uploads["bug"], key=user)
            await policy.publish(MEDIA_ERASED, bug_erasure, key=user)
            await read_topic(env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS),
                             until=lambda v: len(v) >= 2, timeout_s=60)
        letters = [DeadLetter.from_json(r.value) for r in await read_records(  # all of them
            env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS))]
        assert sorted((lt.data.source_topic, lt.data.error_type) for lt in letters) == [
            (env.topic(MEDIA_ERASED), "ValueError"), (env.topic(MEDIA_UPLOADED), "ValueError")]
        originals = {lt.data.original_value for lt in letters}
        assert originals == {uploads["bug"].to_json(), bug_erasure.to_json()}
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
        await store.delete_prefix(prefix + "/")
