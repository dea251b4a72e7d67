"""The reliability suite's fixtures: a private stack (its parts may be stopped), the four
services as real processes on it, and the users driving them.

One stack and one pipeline serve the whole package (starting the classifier's models is the
slow part) and stop when its last test is done; every test uses its own users. The fault
module leaves everything running and ready (that is one of its checks), so the modules after
it work on a recovered pipeline, and the privacy scan at the end reads the logs and topics of
the whole package run.

Sizes for `make test` are small; `GEMROLL_RELIABILITY_PHOTOS` (default 200) changes the fault
run's size; `python -m gemroll_dev.soak` runs the full-size variants.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from gemroll_testkit.photos import shot
from gemroll_testkit.reliability.driver import Driver, User
from gemroll_testkit.reliability.private_stack import PrivateStack, private_stack
from gemroll_testkit.reliability.services import Pipeline, PipelineConfig, running_pipeline

PHOTOS = int(os.environ.get("GEMROLL_RELIABILITY_PHOTOS", "200"))


@pytest.fixture(scope="package")
async def private(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    async with private_stack(tmp_path_factory.mktemp("reliability-stack")) as stack:
        yield stack


@pytest.fixture(scope="package")
async def pipeline(private: PrivateStack, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Pipeline]:
    logs = tmp_path_factory.mktemp("reliability-logs")
    async with running_pipeline(PipelineConfig(endpoints=private.endpoints, logs=logs)) as p:
        yield p


@pytest.fixture(scope="package")
def accounts() -> set[str]:
    """Every raw account id the session used (the privacy scan looks for all of them)."""
    return set()


@pytest.fixture(scope="package")
def tokens() -> set[str]:
    """Bearer tokens the session sent (none may appear in a log)."""
    return set()


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=120.0) as c:
        yield c


@pytest.fixture(scope="module")
def driver(pipeline: Pipeline, client: httpx.AsyncClient, accounts: set[str],
           tokens: set[str]) -> Driver:
    d = Driver(pipeline, client, give_up_s=120.0)
    new_user = d.new_user

    def registered(account: str | None = None) -> User:
        user = new_user(account)
        accounts.add(user.account)
        tokens.add(user.token)
        return user

    d.new_user = registered  # type: ignore[method-assign]
    return d


async def opted_in(driver: Driver, *, training_opt_out: bool = False) -> User:
    user = driver.new_user()
    await driver.opt_in(user, training_opt_out=training_opt_out)
    return user


async def upload_roll(driver: Driver, user: User, count: int, *, seed: int = 7,
                      per_day: int = 5) -> list[str]:
    """`count` photos of a fresh roll; returns their media ids (waits for consent)."""
    ids = []
    for i in range(count):
        record = await driver.upload(user, shot(i, seed=seed, per_day=per_day))
        assert record.media_id, f"upload {i} answered {record.answers}"
        ids.append(record.media_id)
    return ids


def log_text(pipeline: Pipeline) -> dict[str, str]:
    return pipeline.logs()


def report_dir() -> Path:
    from gemroll_dev.stack.config import find_project_root

    folder = find_project_root() / "reports" / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
