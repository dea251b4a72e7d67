"""How the gate's long-running tasks (the consumer session, the relay) survive their errors:
run again with a growing wait, and close what they opened without letting a close fail them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gemroll_common.logging import get_logger
from gemroll_common.retry import Backoff

from .. import metrics

log = get_logger(__name__)

SESSION_BACKOFF = Backoff(0.5, 30.0)
FRESH_AFTER_S = 60.0
"""A session that ran this long before failing starts the wait over."""


async def keep_running(session: Callable[[], Awaitable[None]], *, stage: str, event: str,
                       level: str = "warning",
                       stopping: Callable[[], bool] = lambda: False) -> None:
    """Run `session()` again until `stopping()`; a failure is counted (`stage`), logged
    (`event` at `level`) and waited out, longer for each failure in a row."""
    failures = 0
    while not stopping():
        started = time.monotonic()
        try:
            await session()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the gate must keep going
            metrics.GATE_FAILURES.labels(stage).inc()
            getattr(log, level)(event, error_type=type(exc).__name__, error=str(exc)[:500])
            failures = 1 if time.monotonic() - started > FRESH_AFTER_S else failures + 1
            await SESSION_BACKOFF.wait(failures)


_closing: set[asyncio.Future[Any]] = set()
"""Closes that outlived their caller (cancelled, or out of time), kept referenced until they
end."""

CLOSE_TIMEOUT_S = 15.0
"""How long a caller waits for a close: aiokafka's stop can hang for good (a producer cut off
inside a transaction, aio-libs/aiokafka#1101), and a shutdown must not hang with it."""


async def quietly(close: Awaitable[Any], timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    """Await a close for up to `timeout_s`; a failure is logged, never raised (best effort on
    the way out).

    The close runs to its end even if the caller is cancelled or stops waiting meanwhile (a
    shutdown that cancels twice): a Kafka consumer stopped halfway keeps its background
    tasks, which poll the broker in a tight loop once its topics are gone."""
    task = asyncio.ensure_future(close)
    task.add_done_callback(_log_failure)
    try:
        await asyncio.wait({task}, timeout=timeout_s)  # neither cancels the close
    finally:
        if not task.done():
            _closing.add(task)
            task.add_done_callback(_closing.discard)
    if not task.done():
        log.warning("gate_close_timed_out", timeout_s=timeout_s)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("gate_close_failed", error=str(exc)[:200])


__all__ = ["keep_running", "quietly"]
