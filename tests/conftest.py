"""Repository-wide test fixtures.

`stack` gives the endpoints of a real Kafka / PostgreSQL / S3 stack. It is lazy: nothing
starts unless a test asks for it. Order of preference: KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL,
S3_ENDPOINT (+ S3_ACCESS_KEY, S3_SECRET_KEY) from the environment; else the running stack in
`.run/stack.env`; else the stack is started for the session and the parts started here are
stopped at its end. Either way the contract topics and the bucket exist.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

# Tests are a development environment: services built here may use the built-in HS256 secret
# (outside development they refuse to start without an auth configuration).
os.environ.setdefault("GEMROLL_ENV", "development")

if TYPE_CHECKING:
    from gemroll_dev.stack import StackEndpoints
    from gemroll_testkit.isolation import Isolated


@pytest.fixture(scope="session")
def stack() -> Iterator[StackEndpoints]:
    from gemroll_dev.stack.testing import session_stack

    with session_stack() as endpoints:
        yield endpoints


@pytest.fixture
def unique() -> str:
    """A short random suffix for isolated topic, bucket, schema or group names."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
async def isolated_env(stack: StackEndpoints, unique: str) -> AsyncIterator[Isolated]:
    """Settings private to this test (`isolate`, with `unique`); its topics go at teardown."""
    from gemroll_testkit.isolation import drop_isolated, isolate

    env = await isolate(stack, unique)
    yield env
    await drop_isolated(env)
