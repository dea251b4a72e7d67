"""Videos through the classifier service on the real stack: clips in S3 and MediaUploaded
(media_kind=video) on Kafka in; MediaClassified with the video verdict and a stored row out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from gemroll_classifier.app import create_app
from gemroll_classifier.settings import ClassifierSettings
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    MEDIA_UPLOADED,
    MediaClassified,
    MediaUploaded,
    MediaUploadedData,
    Service,
    VideoFacts,
)
from gemroll_testkit import clips
from gemroll_testkit.clips import Motion
from gemroll_testkit.topics import read_topic

pytestmark = pytest.mark.integration

T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)
SIZE = (640, 360)


def uploaded(user: str, key: str, blob: bytes, i: int) -> MediaUploaded:
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=user, bucket="gemroll-media", object_key=key,
        content_type="video/mp4", size_bytes=max(1, len(blob)), sha256="0" * 64,
        width=SIZE[0], height=SIZE[1], captured_at=T0 + timedelta(seconds=i),
        media_kind="video", video=VideoFacts(duration_s=4.0, fps=24.0, video_codec="h264",
                                             has_audio=False)))


async def test_videos_end_to_end(isolated_env, unique, classifier_models):
    env = isolated_env
    schema = f"classifier{env.schema_suffix}"
    settings = ClassifierSettings(db_schema=schema, device="cpu", threads=2, fetch_attempts=2,
                                  fetch_backoff_s=0.05, batch_max=8, batch_timeout_ms=300,
                                  video_frames=8)
    store = ObjectStore(env.s3)
    user = uuid.uuid4().hex
    pan = clips.clip(Motion.pan, size=SIZE, fps=24, seconds=4, gop=6)
    roll = {"pan": pan, "pocket": clips.clip(Motion.pocket, size=SIZE, fps=24, seconds=4, gop=6),
            "truncated": pan[: len(pan) // 2]}
    events = {}
    for i, (name, blob) in enumerate(roll.items()):
        key = f"test-classifier-video/{unique}/{name}.mp4"
        await store.put_bytes(key, blob, "video/mp4")
        events[name] = uploaded(user, key, blob, i)

    app = create_app(settings, env.kafka, env.database, env.s3, models=classifier_models)
    broker = make_broker(env.kafka, Service.ingest)
    ingest = EventPublisher(broker, env.kafka, Service.ingest)
    async with broker:
        await broker.connect()
        for event in events.values():
            await ingest.publish(MEDIA_UPLOADED, event, key=user)
    async with app.router.lifespan_context(app):
        out = [MediaClassified.from_json(v) for v in await read_topic(
            env.kafka.bootstrap_servers, env.topic(MEDIA_CLASSIFIED),
            until=lambda v: len(v) >= len(roll), timeout_s=120)]
    by_media = {e.data.media_id: e.data for e in out}
    got = {name: by_media[ev.data.media_id] for name, ev in events.items()}

    good = got["pan"]
    assert good.media_kind == "video" and good.is_gem, good.reasons
    assert good.video.frames_sampled == 8 and 0 <= good.video.poster_time_s <= 4.0
    moment = good.video.best_moment
    assert 0 <= moment.start_s < moment.end_s <= good.video.duration_s + 1e-6
    assert "accidental:pocket_recording" in got["pocket"].reasons and not got["pocket"].is_gem
    bad = got["truncated"]
    assert bad.reasons == ["unreadable:decode_error"] and bad.quality is None
    assert bad.category == "other" and bad.media_kind == "video"

    conn = await asyncpg.connect(env.database.url.get_secret_value())
    try:
        rows = await conn.fetch(f"SELECT media_id, embedding, phash FROM {schema}.media_results"
                                f" WHERE user_key = $1", user)
    finally:
        await conn.close()
    assert len(rows) == 3
    assert all(r["embedding"] is None and r["phash"] is None for r in rows)  # no photo groups
