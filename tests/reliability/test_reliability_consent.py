"""Consent takes effect at once (read-your-writes), tried the way a phone does it: once
`PUT /v1/consent` has answered, every service acts on it. No wait between the answer and the
next request, a fresh user each round, 200 rounds in a row, while another user keeps the
pipeline busy with uploads:

* opt in -> upload at once: accepted (never 403 `consent_required`);
* opt out -> upload at once: refused 403 `consent_required`;
* opt out -> act on a suggestion at once: refused 409 `opted_out`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from gemroll_testkit import eventually
from gemroll_testkit.photos import shot
from gemroll_testkit.reliability.driver import Driver, User

from .conftest import opted_in, report_dir

ROUNDS = int(os.environ.get("GEMROLL_RELIABILITY_CONSENT_ROUNDS", "200"))

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600 + 3 * ROUNDS)]


BUSY_UPLOADS_PER_S = 3.0
"""The background load: steady, below what the CPU classifier keeps up with, so no backlog
is left for the tests and modules after it."""


@pytest.fixture
async def busy(driver: Driver) -> AsyncIterator[list[int]]:
    """Two clients of another user upload all along; yields how many they got accepted."""
    user = await opted_in(driver)
    accepted = [0]
    stop = asyncio.Event()

    async def uploading(lane: int) -> None:
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            record = await driver.upload(user, shot(10_000 * lane + i, seed=41))
            accepted[0] += record.media_id is not None
            i += 1
            with contextlib.suppress(TimeoutError):  # paced, and stops at once when asked
                await asyncio.wait_for(stop.wait(), max(
                    0.0, 2 / BUSY_UPLOADS_PER_S - (time.monotonic() - started)))

    async def running() -> bool:
        return accepted[0] >= 2

    lanes = [asyncio.create_task(uploading(lane)) for lane in range(2)]
    await eventually(running, "the background uploads running", timeout_s=60)
    yield accepted
    stop.set()
    await asyncio.gather(*lanes)


async def put_consent(driver: Driver, user: User, **change: bool) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await driver.client.put(f"{driver.pipeline.url('policy')}/v1/consent",
                                       json=change, headers=user.headers)
    return response, time.perf_counter() - started


async def upload_once(driver: Driver, user: User, index: int) -> httpx.Response:
    """One POST, no retry: the answer the phone gets."""
    photo = shot(index, seed=43)
    return await driver.client.post(
        f"{driver.pipeline.url('ingest')}/v1/media", headers=user.headers,
        files={"file": (f"IMG_{index:05d}.jpg", photo.data, "image/jpeg")})


def code(response: httpx.Response) -> str | None:
    try:
        return response.json()["detail"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


async def test_an_upload_right_after_the_opt_in_is_accepted_and_right_after_the_opt_out_refused(
        driver: Driver, busy: list[int]) -> None:
    failures: list[str] = []
    waits: list[float] = []
    for i in range(ROUNDS):
        user = driver.new_user()
        opt_in, waited = await put_consent(driver, user, camera_roll=True)
        waits.append(waited)
        if opt_in.status_code != 200 or opt_in.json()["in_effect"] is not True:
            failures.append(f"round {i}: opt-in answered {opt_in.status_code} {opt_in.text}")
            continue
        after_in = await upload_once(driver, user, i)
        if after_in.status_code != 201:
            failures.append(f"round {i}: upload after opt-in {after_in.status_code} "
                            f"{after_in.text[:200]}")
        opt_out, waited = await put_consent(driver, user, camera_roll=False)
        waits.append(waited)
        if opt_out.status_code != 200 or opt_out.json()["in_effect"] is not True:
            failures.append(f"round {i}: opt-out answered {opt_out.status_code} {opt_out.text}")
            continue
        after_out = await upload_once(driver, user, ROUNDS + i)
        if (after_out.status_code, code(after_out)) != (403, "consent_required"):
            failures.append(f"round {i}: upload after opt-out {after_out.status_code} "
                            f"{after_out.text[:200]}")
    figures = {"rounds": ROUNDS, "failures": len(failures), "background_uploads": busy[0],
               "put_consent_s": {"p50": round(statistics.median(waits), 3),
                                 "p99": round(sorted(waits)[int(0.99 * (len(waits) - 1))], 3),
                                 "max": round(max(waits), 3)}}
    (report_dir() / "consent.json").write_text(json.dumps(figures, indent=2))
    print(figures)
    assert busy[0] > 0, "the pipeline was not under load"
    assert failures == []


async def test_a_suggestion_action_right_after_the_opt_out_is_refused(driver: Driver) -> None:
    user = await opted_in(driver)
    assert user.consent_in_effect
    for i in range(3):  # one day's photos: an event, hence suggestions
        record = await driver.upload(user, shot(i, seed=47, per_day=3))
        assert record.media_id, record.answers
    suggestions = await eventually(lambda: driver.suggestions(user), "suggestions",
                                   timeout_s=300)
    opt_out, _ = await put_consent(driver, user, camera_roll=False)
    assert opt_out.status_code == 200 and opt_out.json()["in_effect"] is True, opt_out.text
    url = f"{driver.pipeline.url('suggester')}/v1/suggestions/{suggestions[0]['id']}/actions"
    acted = await driver.client.post(url, json={"action": "save"}, headers=user.headers)
    assert (acted.status_code, code(acted)) == (409, "opted_out"), acted.text
