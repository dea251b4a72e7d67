"""Classifier erasure on the real stack: a classification arriving after the erasure stores
and publishes nothing (tombstones), and an account erasure removes every row of the user."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from gemroll_classifier.app import create_app
from gemroll_classifier.settings import ClassifierSettings
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    ErasureReason,
    MediaClassified,
    MediaErased,
    MediaErasedData,
    Service,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.topics import read_topic

from .test_classifier_service import T0, real_photo, uploaded

pytestmark = pytest.mark.integration


async def test_late_classification_after_erasure_and_account_erasure(
        isolated_env, unique, classifier_models):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    settings = ClassifierSettings(db_schema=schema, device="cpu", threads=2,
                                  batch_timeout_ms=100)
    store = ObjectStore(env.s3)
    user = uuid.uuid4().hex
    prefix = f"test-classifier/{unique}"
    photo = photos.jpeg(real_photo("coffee"), exif=photos.camera_exif())
    for name in ("late", "control", "a", "b"):
        await store.put_bytes(f"{prefix}/{name}.jpg", photo, "image/jpeg")
    late, control, a, b = (uploaded(user, n, "jpg", photo, prefix, i)
                           for i, n in enumerate(("late", "control", "a", "b")))
    app = create_app(settings, env.kafka, env.database, env.s3, models=classifier_models)
    broker = make_broker(env.kafka, "test")
    ingest = EventPublisher(broker, env.kafka, Service.ingest)
    policy = EventPublisher(broker, env.kafka, Service.policy)
    conn = await asyncpg.connect(env.database.url.get_secret_value())

    async def ids(table: str) -> set[uuid.UUID]:
        try:
            return {r["media_id"] for r in await conn.fetch(
                f"SELECT media_id FROM {schema}.{table}")}
        except asyncpg.UndefinedTableError:
            return set()

    def erase(media_ids, reason) -> MediaErased:  # noqa: ANN001
        return MediaErased(producer="policy", data=MediaErasedData(
            user_key=user, media_ids=media_ids, reason=reason, erased_at=T0))

    try:
        async with broker, app.router.lifespan_context(app):
            await broker.connect()
            # The erasure is processed first; the upload event of the same media comes late.
            await policy.publish(MEDIA_ERASED, erase([late.data.media_id],
                                                     ErasureReason.retention_expired), key=user)

            async def tombstoned() -> bool:
                return late.data.media_id in await ids("erased_media")
            await eventually(tombstoned, timeout_s=60)
            await ingest.publish(MEDIA_UPLOADED, late, key=user)
            await ingest.publish(MEDIA_UPLOADED, control, key=user)

            async def control_stored() -> bool:
                return control.data.media_id in await ids("media_results")
            await eventually(control_stored, timeout_s=60)
            assert late.data.media_id not in await ids("media_results")
            published = [MediaClassified.from_json(v) for v in await read_topic(
                env.kafka.bootstrap_servers, env.topic(MEDIA_CLASSIFIED),
                until=lambda v: any(str(control.data.media_id).encode() in x for x in v))]
            assert late.data.media_id not in {e.data.media_id for e in published}

            # Account erasure: every row of the user goes, listed or not.
            await ingest.publish(MEDIA_UPLOADED, a, key=user)
            await ingest.publish(MEDIA_UPLOADED, b, key=user)

            async def both() -> bool:
                return {a.data.media_id, b.data.media_id} <= await ids("media_results")
            await eventually(both, timeout_s=60)
            await policy.publish(MEDIA_ERASED, erase([a.data.media_id],
                                                     ErasureReason.account_erasure), key=user)

            async def none_left() -> bool:
                return await conn.fetchval(
                    f"SELECT count(*) FROM {schema}.media_results WHERE user_key = $1",
                    user) == 0
            await eventually(none_left, timeout_s=60)
            assert {a.data.media_id, b.data.media_id, control.data.media_id} <= \
                await ids("erased_media")
            columns = {r["column_name"] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = $1 AND table_name = 'erased_media'", schema)}
            assert columns == {"media_id", "erased_at"}  # no content, no user key
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
        await store.delete_prefix(prefix + "/")
