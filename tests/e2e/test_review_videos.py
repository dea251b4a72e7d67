"""Videos on the real services, end to end: a phone clip (HEVC in MOV, with its location) is
uploaded with `gemroll upload`, and the ingest stores it with a poster frame; the classifier's
verdict on it and three photos of the same afternoon arrive; the suggester's highlight shows
the clip, its recap movie plays in headless Chromium on the review page and `gemroll recap`
downloads it. Deleting the clip then takes the clip, its poster and the recap movie that
showed it out of the store (a bucket scan)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from gemroll_cli.tokens import dev_token, user_key_of
from gemroll_common import video
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Moment,
    Quality,
    VideoVerdict,
)
from gemroll_dev.stack.control import run_sync
from gemroll_testkit import clips, eventually, photos
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import classifier_publisher
from .test_cli import gemroll, ok

pytestmark = pytest.mark.integration

WAIT_S = 90
START = datetime(2024, 6, 9, 15, 0, tzinfo=UTC)


def css(selector: str):
    return (By.CSS_SELECTOR, selector)


def upload_clip(services, user: str, folder: Path) -> uuid.UUID:
    """`gemroll upload` of a folder holding one phone clip; the clip's media id."""
    folder.mkdir()
    (folder / "IMG_0042.MOV").write_bytes(clips.clip(
        clips.Motion.pan, container="mov", codec="hevc", size=(480, 270), fps=24, seconds=6,
        created_at=START, location=(38.7223, -9.1393)))
    ok(gemroll(services, "upload", str(folder), "--user", user))
    response = httpx.get(f"{services.url('ingest')}/v1/media",
                         headers={"Authorization": f"Bearer {dev_token(user)}"})
    [item] = response.json()["items"]
    return uuid.UUID(item["media_id"])


async def classify(services, user: str, clip_id: uuid.UUID) -> list[uuid.UUID]:
    """What the classifier would publish: the clip (its best moment 1-4 s) and three photos
    of the same afternoon, all gems."""
    iso, ukey = services.iso, user_key_of(user)
    store = ObjectStore(iso.s3)
    quality = Quality(sharpness=0.9, exposure=0.85, noise=0.1, brightness=0.55)
    events = [MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=clip_id, user_key=ukey, bucket=iso.s3.bucket,
        object_key=f"users/{ukey}/media/{clip_id}", width=480, height=270, captured_at=START,
        coarse_location="eycs0", category=Category.photo, quality=quality, nsfw_score=0.01,
        gem_score=0.95, is_gem=True, reasons=["video:steady"], media_kind="video",
        video=VideoVerdict(duration_s=6.0, frames_sampled=6, poster_time_s=2.0,
                           best_moment=Moment(start_s=1.0, end_s=4.0),
                           poster_key=f"users/{ukey}/posters/{clip_id}.jpg"),
        model=ModelInfo(name="e2e-seed", version="1")))]
    photo_ids = []
    for i in range(3):
        media_id = uuid.uuid4()
        key = f"users/{ukey}/media/{media_id}"
        await store.put_bytes(key, photos.jpeg(photos.hills(i)), "image/jpeg")
        events.append(MediaClassified(producer="classifier", data=MediaClassifiedData(
            media_id=media_id, user_key=ukey, bucket=iso.s3.bucket, object_key=key,
            width=960, height=720, captured_at=START + timedelta(minutes=10 * (i + 1)),
            coarse_location="eycs0", category=Category.photo, quality=quality,
            nsfw_score=0.01, gem_score=0.9 - 0.05 * i, is_gem=True,
            model=ModelInfo(name="e2e-seed", version="1"))))
        photo_ids.append(media_id)
    async with classifier_publisher(services) as publisher:
        for event in events:
            await publisher.publish(MEDIA_CLASSIFIED, event, key=ukey)
    return photo_ids


async def objects_of(services, prefix: str) -> list[str]:
    return await ObjectStore(services.iso.s3).list_keys(prefix)


def test_a_phone_clip_is_in_a_highlight_whose_recap_plays_and_deletion_erases_it(
        services, browser, tmp_path):
    user = f"clips-{uuid.uuid4().hex[:8]}"
    token, ukey = dev_token(user), user_key_of(user)
    headers = {"Authorization": f"Bearer {token}"}
    policy = httpx.Client(base_url=services.url("policy"), headers=headers)
    suggester = httpx.Client(base_url=services.url("suggester"), headers=headers, timeout=60)
    assert policy.put("/v1/consent", json={"camera_roll": True}).status_code == 200

    clip_id = upload_clip(services, user, tmp_path / "roll")
    listed = httpx.get(f"{services.url('ingest')}/v1/media/{clip_id}", headers=headers).json()
    assert listed["media_kind"] == "video" and listed["duration_s"] == pytest.approx(6, abs=0.1)
    poster = f"users/{ukey}/posters/{clip_id}.jpg"
    assert poster in run_sync(objects_of(services, f"users/{ukey}/posters/"))
    run_sync(classify(services, user, clip_id))

    def highlight() -> dict | None:
        items = suggester.get("/v1/suggestions", params={"kind": "highlight"}).json()["items"]
        shown = [s for s in items if str(clip_id) in s["media_ids"] and s["recap_url"]]
        return shown[0] if shown else None

    found = run_sync(eventually(lambda: asyncio.to_thread(highlight),
                                "a highlight showing the clip", timeout_s=WAIT_S))

    # The review page: sign in, play the highlight's recap movie.
    driver = browser
    wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.3,
                         ignored_exceptions=(StaleElementReferenceException,))
    driver.get(services.url("review") + "/")
    wait.until(ec.visibility_of_element_located(css('[data-testid="token-input"]')))
    driver.find_element(*css('[data-testid="token-input"]')).send_keys(token)
    driver.find_element(*css('[data-testid="sign-in"]')).click()
    card = f'[data-id="{found["id"]}"]'
    wait.until(ec.element_to_be_clickable(css(f'{card} [data-testid="play-recap"]'))).click()
    wait.until(ec.presence_of_element_located(css(f'{card} [data-testid="recap"]')))
    wait.until(lambda d: d.execute_script(
        f"return document.querySelector('{card} [data-testid=recap]').readyState") >= 2)
    played = driver.execute_script(
        "const v = document.querySelector(arguments[0]); v.muted = true;"
        "return v.play().then(() => new Promise(r => setTimeout(() => r({"
        "  time: v.currentTime, duration: v.duration, width: v.videoWidth,"
        "  height: v.videoHeight, error: v.error && v.error.code}), 1500)));",
        f'{card} [data-testid="recap"]')
    assert played["error"] is None and played["time"] > 0.5, played
    assert (played["width"], played["height"]) == (640, 360)
    # title card + stills + the clip's 3 s best moment
    assert played["duration"] == pytest.approx(1.5 + 2.5 * (len(found["media_ids"]) - 1) + 3,
                                               abs=0.25)
    recap_key = f"users/{ukey}/suggestions/{found['id']}/r{found['revision']}.mp4"
    assert recap_key in run_sync(objects_of(services, f"users/{ukey}/suggestions/"))
    movie = tmp_path / "recap.mp4"
    ok(gemroll(services, "recap", found["id"], "--output", str(movie), "--user", user))
    assert video.probe(movie).duration_s == pytest.approx(played["duration"], abs=0.1)

    # Delete the clip: its bytes, its poster and the movie that showed it leave the store.
    response = httpx.delete(f"{services.url('ingest')}/v1/media/{clip_id}", headers=headers)
    assert response.status_code == 204, response.text

    async def erased() -> bool:
        keys = await objects_of(services, f"users/{ukey}/")
        return not [k for k in keys if str(clip_id) in k or k == recap_key]

    run_sync(eventually(erased, "the clip, poster and recap erased", timeout_s=WAIT_S))
    after = highlight()
    assert after is None or str(clip_id) not in after["media_ids"]
