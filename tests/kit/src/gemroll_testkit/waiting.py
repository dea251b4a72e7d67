"""Wait for a condition that the system under test reaches on its own time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], what: str = "the condition", *,
                     timeout_s: float = 30.0, every_s: float = 0.1,
                     ignoring: tuple[type[BaseException], ...] = (),
                     diagnostics: Callable[[], str] | None = None) -> T:
    """Await `check()` until it returns something truthy, and return that. After `timeout_s`
    fail, saying `what`, the last value and `diagnostics()`. Exceptions of the `ignoring`
    types count as not yet (a service that is still starting refuses connections)."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while True:
        try:
            last = result = await check()
        except ignoring as exc:
            last = exc
        else:
            if result:
                return result
        if time.monotonic() > deadline:
            details = f"\n{diagnostics()}" if diagnostics is not None else ""
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} "
                                 f"(last value: {last!r}){details}")
        await asyncio.sleep(every_s)
