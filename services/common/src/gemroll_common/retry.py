"""The one backoff policy, and retrying work while a dependency is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import is_transient
from .logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: `first_s`, doubling, never above `max_s`."""

    first_s: float = 0.2
    max_s: float = 10.0

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1 is the first failure)."""
        return min(self.max_s, self.first_s * 2 ** min(max(attempt - 1, 0), 16))

    async def wait(self, attempt: int) -> None:
        await asyncio.sleep(self.delay(attempt))


async def retry_while_transient(
    work: Callable[[], Awaitable[T]], *, what: str, backoff: Backoff = Backoff(),
    on_retry: Callable[[BaseException, int], None] | None = None,
) -> T:
    """Run `work` until it succeeds; a transient failure (`is_transient`) is waited out with
    `backoff`, anything else propagates."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await work()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(exc, attempt)
            delay = backoff.delay(attempt)
            log.warning("transient_failure_retrying", work=what, attempt=attempt,
                        error_type=type(exc).__name__, error=str(exc)[:300],
                        retry_in_s=round(delay, 3))
            await asyncio.sleep(delay)


__all__ = ["Backoff", "retry_while_transient"]
