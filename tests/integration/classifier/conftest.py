"""The classifier against the real stack. The models load once per test session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from gemroll_classifier.app import Models, build_models
from gemroll_classifier.settings import ClassifierSettings


@pytest.fixture(scope="session")
def classifier_models() -> Models:
    """MobileNetV2 + open_nsfw on the CPU, loaded once (seeding the hub cache if needed)."""
    models = build_models(ClassifierSettings(device="cpu", threads=2))
    models.image.load()
    if models.nsfw is not None:
        models.nsfw.load()
    return models


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout_s: float = 60.0,
                     every_s: float = 0.1) -> Any:
    """Await `check()` until it returns something truthy; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(every_s)
