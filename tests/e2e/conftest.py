"""End-to-end fixtures: the ingest, suggester and policy services and the review page's
server, started as real processes against isolated topics and schemas of the session stack,
plus headless Chromium driven by Selenium.

The classifier is not started: tests seed its output (MediaClassified and TrainingCandidate
events) themselves, so they stay fast on two cores.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
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
from gemroll_dev.client import user_key_of
from gemroll_dev.testkit import Isolated, isolate
from PIL import Image, ImageDraw

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)
START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Services:
    """The running services and what a client needs to reach them."""

    iso: Isolated
    procs: dict[str, Proc]
    client_env: dict[str, str] = field(default_factory=dict)
    """Environment for the `gemroll` CLI: service URLs, Kafka, topic suffix."""

    def url(self, name: str) -> str:
        return self.procs[name].url


async def _wait_healthy(procs: list[Proc]) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        for proc in procs:
            while True:
                if proc.process.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited ({proc.process.returncode}):\n"
                                       f"{proc.tail()}")
                try:
                    if (await client.get(f"{proc.url}/readyz")).is_success:
                        break
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"{proc.name} not ready in {START_TIMEOUT_S:.0f}s:\n"
                                       f"{proc.tail()}")
                await asyncio.sleep(0.3)


def _stop(procs: list[Proc]) -> None:
    for proc in procs:
        if proc.process.poll() is None:
            os.killpg(proc.process.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait(timeout=10)


@pytest.fixture(scope="session")
async def services(stack, tmp_path_factory) -> AsyncIterator[Services]:
    unique = uuid.uuid4().hex[:8]
    iso = await isolate(stack, unique)
    logs = tmp_path_factory.mktemp(f"e2e-{unique}")
    base = {
        **os.environ,
        **stack.as_env(),
        "KAFKA_TOPIC_SUFFIX": iso.suffix,
        "PYTHONUNBUFFERED": "1",
    }
    per_service = {
        "ingest": {"GEMROLL_INGEST_DB_SCHEMA": f"ingest{iso.schema_suffix}"},
        "suggester": {
            "GEMROLL_SUGGESTER_DB_SCHEMA": f"suggester{iso.schema_suffix}",
            "GEMROLL_SUGGESTER_CONSUMER_GROUP": f"suggester-{unique}",
            "GEMROLL_SUGGESTER_QUIET_SECONDS": "1",
        },
        "policy": {"GEMROLL_POLICY_DB_SCHEMA": f"policy{iso.schema_suffix}"},
    }
    procs: dict[str, Proc] = {}

    def spawn(name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        procs[name] = Proc(name, f"http://127.0.0.1:{port}", process, log)

    try:
        for name, extra in per_service.items():
            port = free_port()
            spawn(name, [sys.executable, "-m", "uvicorn", "--factory",
                         f"gemroll_{name}.app:create_app", "--host", "127.0.0.1",
                         "--port", str(port), "--no-access-log"], {**base, **extra}, port)
        review_port = free_port()
        review_env = {**base, **{f"GEMROLL_REVIEW_{n.upper()}_URL": p.url
                                 for n, p in procs.items()}}
        spawn("review", [sys.executable, "-m", "gemroll_dev.review", "--port",
                         str(review_port)], review_env, review_port)
        # The review server has no /readyz; its /healthz says it serves.
        await _wait_healthy([p for n, p in procs.items() if n != "review"])
        await _wait_review(procs["review"])
        client_env = {
            **base,
            **{f"{n.upper()}_URL": p.url for n, p in procs.items() if n != "review"},
        }
        yield Services(iso, procs, client_env)
    finally:
        _stop(list(procs.values()))


async def _wait_review(proc: Proc) -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        for _ in range(200):
            if proc.process.poll() is not None:
                raise RuntimeError(f"review exited:\n{proc.tail()}")
            try:
                if (await client.get(f"{proc.url}/healthz")).is_success:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"review not up:\n{proc.tail()}")


# -- seeding what the classifier would publish --------------------------------------------------
def photo_jpeg(seed: int, size: tuple[int, int] = (960, 720)) -> bytes:
    """A colourful, sharp test photo (gradient sky, sun, hills), different per seed."""
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    hue = (seed * 67) % 255
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(60 + 150 * t), int(120 + 60 * t), 255 - hue // 3))
    draw.ellipse([w * 0.65, h * 0.1, w * 0.8, h * 0.3], fill=(255, 220, 90))
    for i in range(4):
        top = int(h * (0.55 + 0.08 * i))
        draw.polygon([(0, h), (0, top), (w * (0.3 + 0.2 * i), top - 60 - 20 * seed % 50),
                      (w, top + 30), (w, h)], fill=(30 + 20 * i, 110 + hue // 4 - 15 * i, 50))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def seed_gems(services: Services, user: str, count: int = 4) -> list[uuid.UUID]:
    """Store `count` photos of one day for `user` and publish what the classifier would:
    a MediaClassified (a gem) and a TrainingCandidate per photo."""
    iso = services.iso
    ukey = user_key_of(user)
    store = ObjectStore(iso.s3)
    broker = make_broker(iso.kafka, Service.classifier)
    publisher = EventPublisher(broker, iso.kafka, Service.classifier)
    start = datetime(2024, 6, 9, 9, 30, tzinfo=UTC)
    media_ids = []
    async with broker:
        await broker.connect()
        for i in range(count):
            media_id = uuid.uuid4()
            key = f"users/{ukey}/media/{media_id}"
            await store.put_bytes(key, photo_jpeg(i), "image/jpeg")
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
