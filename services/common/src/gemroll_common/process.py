"""Asking for a fresh process when this one holds state that cannot heal: a graceful SIGTERM
to itself, so uvicorn shuts down in order and the supervisor (Kubernetes) starts it again.
Nothing is lost: the work it owns waits in the outbox or on its topics."""

from __future__ import annotations

import os
import signal

from .errors import breaks_the_producer
from .logging import get_logger

log = get_logger(__name__)

BROKEN_PRODUCER_ATTEMPTS = 3
"""Failures in a row that say the producer is out of step before a new process is asked."""


def request_restart(reason: str) -> None:
    log.error("restart_requested", reason=reason)
    os.kill(os.getpid(), signal.SIGTERM)


class BrokenProducerWatch:
    """Counts failures that say the Kafka producer is out of step for good
    (`errors.breaks_the_producer`, aiokafka#1017) and asks for a fresh process once they
    keep coming; whoever saw them keeps its work (outbox rows, uncommitted records)."""

    def __init__(self, what: str, attempts: int = BROKEN_PRODUCER_ATTEMPTS) -> None:
        self.what = what
        self.attempts = attempts
        self._in_a_row = 0

    def saw(self, exc: BaseException | None) -> bool:
        """Record the outcome of one attempt (None: it worked); True when `exc` is one."""
        if exc is None or not breaks_the_producer(exc):
            self._in_a_row = 0
            return False
        self._in_a_row += 1
        if self._in_a_row >= self.attempts:
            request_restart(f"{self.what}: producer out of step: {type(exc).__name__}")
            self._in_a_row = 0
        return True


__all__ = ["BROKEN_PRODUCER_ATTEMPTS", "BrokenProducerWatch", "request_restart"]
