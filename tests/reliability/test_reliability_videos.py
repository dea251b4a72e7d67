"""Real videos, recorded by cameras and phones (none made by the project), through the whole
pipeline: the ingest stores each with a poster, the classifier judges it with a poster frame,
a best moment and reasons, the suggester puts the clips and photos of the same afternoon in a
highlight whose recap movie shows them, and the phone clip's exact location is in no log and
on no topic. The clips come from packages (gemroll_dev.samples.real_videos); nothing was tuned
to them."""

from __future__ import annotations

import io
import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gemroll_common import video
from gemroll_contracts import ALL_TOPICS
from gemroll_dev.samples.real_videos import CLIPS, real_clips
from gemroll_testkit import eventually
from gemroll_testkit.photos import Shot, shot
from gemroll_testkit.topics import read_records
from PIL import Image

from .conftest import log_text, opted_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AFTERNOON = datetime(2025, 9, 13, 15, 0, tzinfo=UTC)
PHONE = next(c for c in CLIPS if c.location is not None)
EXACT = [re.compile(rf"(?<![:\d]){re.escape(f'{abs(v):.4f}')}") for v in PHONE.location or ()]
"""The coordinates at 4 decimals, as a number would be written; not the seconds of a log
line's timestamp (`...T00:12:48.0153Z`), which these digits may be by chance."""


def metadata(at: datetime) -> str:
    return json.dumps({"captured_at": at.isoformat(), "album": "Afternoon"})


@pytest.fixture(scope="module")
async def afternoon(pipeline, driver):
    """A user uploads the four real clips and three photos of one afternoon."""
    user = await opted_in(driver)
    clips = {}
    for i, (key, path) in enumerate(real_clips().items()):
        record = await driver.upload(
            user, Shot(index=900 + i, day=0, taken=AFTERNOON, data=path.read_bytes()),
            metadata=metadata(AFTERNOON + timedelta(minutes=9 * i)), filename=path.name)
        assert record.media_id, f"{key}: {record.answers}"
        clips[key] = record.media_id
    photos = []
    for i in range(3):
        record = await driver.upload(user, shot(i, seed=77),
                                     metadata=metadata(AFTERNOON + timedelta(minutes=5 + 9 * i)))
        assert record.media_id, record.answers
        photos.append(record.media_id)
    return user, clips, photos


async def test_each_real_clip_is_stored_with_a_poster_and_classified(pipeline, driver,
                                                                     afternoon) -> None:
    user, clips, _ = afternoon

    async def judged() -> dict[str, dict] | None:
        items = {m["media_id"]: m for m in await driver.list_media(user)}
        found = {key: items.get(media_id) for key, media_id in clips.items()}
        done = all(m and m.get("classification") for m in found.values())
        return found if done else None

    found = await eventually(judged, "a verdict on every clip", timeout_s=180)
    for key, item in found.items():
        assert item["media_kind"] == "video", key
        verdict = item["classification"]
        assert verdict["reasons"] and not any(r.startswith("unreadable:")
                                              for r in verdict["reasons"]), (key, verdict)
        preview = await driver.client.get(
            f"{pipeline.url('ingest')}/v1/media/{item['media_id']}/preview",
            headers=user.headers)
        assert preview.status_code == 200, (key, preview.text[:200])
        with Image.open(io.BytesIO(preview.content)) as poster:
            assert poster.format == "JPEG" and min(poster.size) > 0


async def test_the_clips_take_part_in_a_highlight_whose_recap_shows_them(pipeline, driver,
                                                                       afternoon) -> None:
    user, clips, _ = afternoon
    clip_ids = set(clips.values())

    async def highlight() -> dict | None:
        shown = [s for s in await driver.suggestions(user)
                 if s["kind"] == "highlight" and clip_ids & set(s["media_ids"])
                 and s["recap_url"]]
        return shown[0] if shown else None

    found = await eventually(highlight, "a highlight with a real clip", timeout_s=180)
    response = await driver.client.get(pipeline.url("suggester") + found["recap_url"],
                                       headers=user.headers, timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    with tempfile.TemporaryDirectory() as work:
        movie = Path(work) / "recap.mp4"
        movie.write_bytes(response.content)
        facts = video.probe(movie)
        frames = list(video.sample_frames(movie, video.frame_times(facts.duration_s, 6)))
    assert facts.video_codec == "h264" and facts.duration_s > 1.5 + 1.0
    assert len(frames) >= 3


async def test_the_phone_clips_exact_location_is_in_no_log_and_on_no_topic(
        pipeline, afternoon) -> None:
    assert EXACT, "the phone clip carries a location"
    for service, text in log_text(pipeline).items():
        assert not [m.group(0) for e in EXACT for m in e.finditer(text)], service
    bootstrap = pipeline.config.endpoints.kafka_bootstrap
    for topic in ALL_TOPICS:
        values = await read_records(bootstrap, pipeline.config.topic(topic))
        text = "\n".join(r.value.decode("utf-8", "replace") for r in values)
        assert not [m.group(0) for e in EXACT for m in e.finditer(text)], topic.name


async def test_a_clip_that_is_not_a_video_any_more_is_refused(pipeline, driver) -> None:
    """A real clip cut in half: 422 with a reason, nothing stored."""
    user = await opted_in(driver)
    path = real_clips()[PHONE.key]
    data = path.read_bytes()
    record = await driver.upload(user, Shot(index=999, day=0, taken=AFTERNOON,
                                            data=data[: len(data) // 3]), filename=path.name)
    assert record.status == 422 and record.refusal, record.answers
    assert not await driver.list_media(user)
