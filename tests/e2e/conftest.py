"""End-to-end fixtures: the ingest, suggester and policy services and the review page's
server, started as real processes against isolated topics and schemas of the session stack,
plus headless Chromium driven by Selenium.

The classifier is not started: tests seed its output (MediaClassified and TrainingCandidate
events) themselves, so they stay fast on two cores.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_cli.tokens import user_key_of
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    TRAINING_CANDIDATES,
    CandidateSource,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Quality,
    Service,
    TrainingCandidate,
    TrainingCandidateData,
)
from gemroll_testkit import photos
from gemroll_testkit.isolation import Isolated, drop_isolated, isolate
from gemroll_testkit.processes import ServiceProcess, free_port, stop_all

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)
START_TIMEOUT_S = 180.0


@dataclass
class Services:
    """The running services and what a client needs to reach them."""

    iso: Isolated
    procs: dict[str, ServiceProcess]
    client_env: dict[str, str] = field(default_factory=dict)
    """Environment for the `gemroll` CLI: service URLs, Kafka, topic suffix."""

    def url(self, name: str) -> str:
        return self.procs[name].url


@pytest.fixture(scope="session")
async def services(stack, tmp_path_factory) -> AsyncIterator[Services]:
    unique = uuid.uuid4().hex[:8]
    iso = await isolate(stack, unique)
    logs = tmp_path_factory.mktemp(f"e2e-{unique}")
    base = {**iso.as_env(), "PYTHONUNBUFFERED": "1"}
    per_service = {
        "ingest": {"GEMROLL_INGEST_DB_SCHEMA": f"ingest{iso.schema_suffix}"},
        "suggester": {
            "GEMROLL_SUGGESTER_DB_SCHEMA": f"suggester{iso.schema_suffix}",
            "GEMROLL_SUGGESTER_QUIET_SECONDS": "1",
        },
        "policy": {"GEMROLL_POLICY_DB_SCHEMA": f"policy{iso.schema_suffix}"},
    }
    procs = {name: ServiceProcess(name, free_port(), {**base, **extra}, logs / f"{name}.log")
             for name, extra in per_service.items()}
    review_port = free_port()
    procs["review"] = ServiceProcess(
        "review", review_port,
        {**base, **{f"GEMROLL_REVIEW_{n.upper()}_URL": p.url for n, p in procs.items()}},
        logs / "review.log", argv=[sys.executable, "-m", "gemroll_dev.review", "--port",
                                   str(review_port)],
        ready_path="/healthz")  # the review server has no /readyz; its /healthz says it serves
    try:
        for proc in procs.values():
            proc.start()
        await asyncio.gather(*(p.wait_ready(START_TIMEOUT_S) for p in procs.values()))
        client_env = {
            **os.environ,
            **base,
            **{f"{n.upper()}_URL": p.url for n, p in procs.items() if n != "review"},
        }
        yield Services(iso, procs, client_env)
    finally:
        stop_all(procs.values())
        await drop_isolated(iso)


# -- seeding what the classifier would publish --------------------------------------------------
@asynccontextmanager
async def classifier_publisher(services: Services) -> AsyncIterator[EventPublisher]:
    """Publishes as the classifier would, to the session's isolated topics."""
    iso = services.iso
    broker = make_broker(iso.kafka, Service.classifier)
    async with broker:
        await broker.connect()
        yield EventPublisher(broker, iso.kafka, Service.classifier)


def verdict(services: Services, user: str, media_id: uuid.UUID, *, is_gem: bool,
            reasons: list[str]) -> MediaClassified:
    """The classifier's verdict on a photo the user uploaded."""
    ukey = user_key_of(user)
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=ukey, bucket=services.iso.s3.bucket,
        object_key=f"users/{ukey}/media/{media_id}", width=960, height=720,
        category=Category.photo, gem_score=0.9 if is_gem else 0.2, is_gem=is_gem,
        reasons=reasons, model=ModelInfo(name="e2e-seed", version="1")))


async def seed_gems(services: Services, user: str, count: int = 4) -> list[uuid.UUID]:
    """Store `count` photos of one day for `user` and publish what the classifier would:
    a MediaClassified (a gem) and a TrainingCandidate per photo."""
    iso = services.iso
    ukey = user_key_of(user)
    store = ObjectStore(iso.s3)
    start = datetime(2024, 6, 9, 9, 30, tzinfo=UTC)
    media_ids = []
    async with classifier_publisher(services) as publisher:
        for i in range(count):
            media_id = uuid.uuid4()
            key = f"users/{ukey}/media/{media_id}"
            await store.put_bytes(key, photos.jpeg(photos.hills(i)), "image/jpeg")
            classified = MediaClassified(producer="classifier", data=MediaClassifiedData(
                media_id=media_id, user_key=ukey, bucket=iso.s3.bucket, object_key=key,
                width=960, height=720, captured_at=start + timedelta(minutes=17 * i),
                coarse_location="u33db", category=Category.photo,
                quality=Quality(sharpness=0.9, exposure=0.85, noise=0.1, brightness=0.55),
                is_best_in_group=True, nsfw_score=0.01, face_count=0, labels=["valley"],
                gem_score=0.9 - 0.05 * i, is_gem=True,
                reasons=["photo:camera_exif", "gem:sharp_and_well_exposed"],
                model=ModelInfo(name="e2e-seed", version="1"),
            ))
            candidate = TrainingCandidate(producer="classifier", data=TrainingCandidateData(
                candidate_id=uuid.uuid5(media_id, "classifier"), user_key=ukey,
                media_id=media_id, source=CandidateSource.classifier, bucket=iso.s3.bucket,
                object_key=key, proposed_at=datetime.now(UTC),
            ))
            await publisher.publish(MEDIA_CLASSIFIED, classified, key=ukey)
            await publisher.publish(TRAINING_CANDIDATES, candidate, key=ukey)
            media_ids.append(media_id)
    return media_ids


@pytest.fixture
def seed(services: Services):
    """`seed(user, count)`: the classifier's output for `count` photos of one day (runs on
    its own event loop, so plain, blocking tests can call it)."""
    from gemroll_dev.stack.control import run_sync

    def seed_for(user: str, count: int = 4) -> list[uuid.UUID]:
        return run_sync(seed_gems(services, user, count))

    return seed_for


# -- the browser -------------------------------------------------------------------------------
def ensure_chromium() -> None:
    """Debian's chromium and chromium-driver, installed with apt when missing."""
    from gemroll_dev.samples.system import ensure_debian_packages

    ensure_debian_packages([("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)])


@pytest.fixture
def browser(tmp_path) -> Iterator[object]:
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=DriverService(executable_path=CHROMEDRIVER),
                              options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
