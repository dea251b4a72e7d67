"""The classifier service end to end on the real stack: uploads in S3 and MediaUploaded on
Kafka in; MediaClassified, TrainingCandidate, dead letters and PostgreSQL rows out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import numpy as np
import pytest
from gemroll_classifier.app import create_app
from gemroll_classifier.domain.candidates import candidate_id
from gemroll_classifier.settings import ClassifierSettings
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    TRAINING_CANDIDATES,
    DeadLetter,
    ErasureReason,
    MediaClassified,
    MediaErased,
    MediaErasedData,
    MediaUploaded,
    MediaUploadedData,
    Service,
    TrainingCandidate,
    subscription,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.topics import committed_offsets, produce, read_topic
from skimage import data as skdata

pytestmark = pytest.mark.integration


T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "heic": "image/heic",
                 "avif": "image/avif"}


def real_photo(name: str) -> np.ndarray:
    """A real photograph shipped inside scikit-image."""
    return getattr(skdata, name)()


def camera_roll() -> dict[str, tuple[str, bytes]]:
    """name -> (extension, bytes)."""
    coffee, chelsea = real_photo("coffee"), real_photo("chelsea")
    burst_base = real_photo("astronaut")
    exif = photos.camera_exif()
    return {
        "photo": ("jpg", photos.jpeg(coffee, exif=exif)),
        "screenshot": ("png", photos.screenshot_png(1)),
        "burst_blurry": ("jpg", photos.jpeg(photos.blurred(burst_base, 2.5), exif=exif)),
        "burst_sharp": ("jpg", photos.jpeg(burst_base, exif=exif)),
        "burst_shifted": ("jpg", photos.jpeg(photos.blurred(photos.shifted(burst_base), 1.2),
                                             exif=exif)),
        "bad": ("jpg", photos.broken_jpeg()),
        "heic": ("heic", photos.heic(chelsea, exif=exif)),
        "avif": ("avif", photos.avif(real_photo("rocket"), exif=exif)),
    }


def uploaded(user: str, name: str, ext: str, blob: bytes, prefix: str, i: int) -> MediaUploaded:
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=user, bucket="gemroll-media",
        object_key=f"{prefix}/{name}.{ext}", content_type=CONTENT_TYPES[ext],
        size_bytes=max(1, len(blob)), sha256="0" * 64, width=100, height=100,
        captured_at=T0 + timedelta(seconds=i)))


async def test_classifier_end_to_end(isolated_env, unique, classifier_models):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    settings = ClassifierSettings(db_schema=schema, device="cpu", threads=2, fetch_attempts=2,
                                  fetch_backoff_s=0.05, batch_max=16, batch_timeout_ms=300)
    group = subscription(Service.classifier, MEDIA_UPLOADED).group + env.kafka.topic_suffix
    store = ObjectStore(env.s3)
    user = uuid.uuid4().hex
    prefix = f"test-classifier/{unique}"
    roll = camera_roll()
    events = {}
    for i, (name, (ext, blob)) in enumerate(roll.items()):
        await store.put_bytes(f"{prefix}/{name}.{ext}", blob, CONTENT_TYPES[ext])
        events[name] = uploaded(user, name, ext, blob, prefix, i)
    events["missing"] = uploaded(user, "missing", "jpg", b"x", prefix, 99)
    malformed = b'{"event_type": "media.uploaded", "data": {"media_id": "nope"}}'

    app = create_app(settings, env.kafka, env.database, env.s3, models=classifier_models)
    ingest_broker = make_broker(env.kafka, Service.ingest)
    ingest = EventPublisher(ingest_broker, env.kafka, Service.ingest)
    async with ingest_broker:  # published before the classifier starts: mostly one batch
        await ingest_broker.connect()
        for event in events.values():
            await ingest.publish(MEDIA_UPLOADED, event, key=user)
    await produce(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED), malformed,
                  key=user.encode())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        classified = [MediaClassified.from_json(v) for v in await read_topic(
            env.kafka.bootstrap_servers, env.topic(MEDIA_CLASSIFIED),
            until=lambda v: len(v) >= len(roll), timeout_s=120)]
        letters = [DeadLetter.from_json(v) for v in await read_topic(
            env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS),
            until=lambda v: len(v) >= 2, timeout_s=60)]
        candidates = [TrainingCandidate.from_json(v) for v in await read_topic(
            env.kafka.bootstrap_servers, env.topic(TRAINING_CANDIDATES),
            until=lambda v: len(v) >= len(roll))]

        ready = await eventually(lambda: _ready(client), timeout_s=60)
        metrics = (await client.get("/metrics")).text

        async def all_committed():
            offsets = await committed_offsets(env.kafka.bootstrap_servers, group,
                                              env.topic(MEDIA_UPLOADED))
            return sum(o or 0 for o in offsets.values()) == len(events) + 1
        await eventually(all_committed, timeout_s=60)

    by_name = {name: next(c.data for c in classified if c.data.media_id == e.data.media_id)
               for name, e in events.items() if name != "missing"}
    assert len(classified) == len(roll)  # exactly one per media; none for the missing object

    photo = by_name["photo"]
    assert photo.category == "photo" and photo.is_gem, photo.reasons
    assert photo.quality and photo.quality.sharpness > 0.5
    assert photo.nsfw_score is not None and photo.nsfw_score < 0.5
    assert photo.embedding and len(photo.embedding) == 1280 and photo.labels
    assert photo.model.name.startswith("mobilenet_v2")

    shot = by_name["screenshot"]
    assert shot.category == "screenshot" and not shot.is_gem
    assert "screenshot:screen_resolution" in shot.reasons

    blurry, sharp, shifted = (by_name[n] for n in ("burst_blurry", "burst_sharp", "burst_shifted"))
    group = sharp.duplicate_group
    assert group and blurry.duplicate_group == group == shifted.duplicate_group
    best_claims = [c.data.media_id for c in classified
                   if c.data.duplicate_group == group and c.data.is_best_in_group]
    assert best_claims[-1] == sharp.media_id  # consumers take the latest best claim
    assert f"duplicate:burst_of:{sharp.media_id}" in shifted.reasons and not shifted.is_gem
    if blurry.is_best_in_group:  # came in an earlier micro-batch: superseded by the sharp one
        assert f"duplicate:supersedes:{blurry.media_id}" in sharp.reasons
    else:  # same micro-batch: resolved together
        assert f"duplicate:burst_of:{sharp.media_id}" in blurry.reasons
    assert not blurry.is_gem

    bad = by_name["bad"]
    assert bad.category == "other" and bad.quality is None and not bad.is_gem
    assert bad.reasons == ["unreadable:unknown_format"]

    heic = by_name["heic"]
    assert heic.category == "photo" and heic.quality is not None
    assert (heic.width, heic.height) == (451, 300)
    avif = by_name["avif"]
    assert avif.category == "photo" and avif.quality is not None
    assert (avif.width, avif.height) == (640, 427)

    kinds = {letter.data.error_type for letter in letters}
    assert kinds == {"ObjectMissing", "ValidationError"}
    missing = next(lt for lt in letters if lt.data.error_type == "ObjectMissing")
    assert MediaUploaded.from_json(missing.data.original_value).data.media_id == \
        events["missing"].data.media_id

    assert {c.data.media_id for c in candidates} == \
        {e.data.media_id for n, e in events.items() if n != "missing"}
    assert all(c.data.candidate_id == candidate_id(c.data.media_id) for c in candidates)

    assert ready["checks"] == {"database": True, "object_store": True, "kafka": True,
                               "model": True}
    assert 'gemroll_classifier_images_total{device="cpu",outcome="gem"}' in metrics
    assert "gemroll_classifier_device_info" in metrics

    conn = await asyncpg.connect(env.database.url.get_secret_value())
    try:
        rows = await conn.fetch(
            f"SELECT media_id, category, is_best, current_best, embedding IS NOT NULL AS emb"
            f" FROM {schema}.media_results WHERE user_key = $1", user)
        assert len(rows) == len(roll)
        row = {r["media_id"]: r for r in rows}
        assert row[sharp.media_id]["current_best"] and row[sharp.media_id]["emb"]
        assert not row[blurry.media_id]["current_best"]
        assert not row[events["bad"].data.media_id]["emb"]
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def _ready(client: httpx.AsyncClient) -> dict | None:
    response = await client.get("/readyz")
    return response.json() if response.status_code == 200 else None


async def test_erasure_drops_results(isolated_env, unique, classifier_models):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    settings = ClassifierSettings(db_schema=schema, device="cpu", threads=2,
                                  batch_timeout_ms=100)
    store = ObjectStore(env.s3)
    user = uuid.uuid4().hex
    key = f"test-classifier/{unique}/photo.jpg"
    await store.put_bytes(key, photos.jpeg(real_photo("coffee"), exif=photos.camera_exif()),
                          "image/jpeg")
    upload = uploaded(user, "photo", "jpg", b"x", f"test-classifier/{unique}", 0)
    app = create_app(settings, env.kafka, env.database, env.s3, models=classifier_models)
    broker = make_broker(env.kafka, "test")
    ingest = EventPublisher(broker, env.kafka, Service.ingest)
    policy = EventPublisher(broker, env.kafka, Service.policy)
    conn = await asyncpg.connect(env.database.url.get_secret_value())

    async def rows() -> int:
        try:
            return await conn.fetchval(
                f"SELECT count(*) FROM {schema}.media_results WHERE user_key = $1", user)
        except asyncpg.UndefinedTableError:
            return 0

    try:
        async with broker, app.router.lifespan_context(app):
            await broker.connect()
            await ingest.publish(MEDIA_UPLOADED, upload, key=user)
            await eventually(rows, timeout_s=60)
            erased = MediaErased(producer="policy", data=MediaErasedData(
                user_key=user, media_ids=[upload.data.media_id],
                reason=ErasureReason.account_erasure, erased_at=T0))
            await policy.publish(MEDIA_ERASED, erased, key=user)
            await produce(env.kafka.bootstrap_servers, env.topic(MEDIA_ERASED), b"{oops",
                          key=user.encode())

            async def gone() -> bool:
                return await rows() == 0
            await eventually(gone, timeout_s=60)
            letters = [DeadLetter.from_json(v) for v in await read_topic(
                env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS),
                until=lambda v: len(v) >= 1)]
        assert [lt.data.source_topic for lt in letters] == [env.topic(MEDIA_ERASED)]
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
