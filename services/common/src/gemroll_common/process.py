"""Asking for a fresh process when this one holds state that cannot heal: a graceful SIGTERM
to itself, so uvicorn shuts down in order and the supervisor (Kubernetes) starts it again.
Nothing is lost: the work it owns waits in the outbox or on its topics."""

from __future__ import annotations

import os
import signal

from .logging import get_logger

log = get_logger(__name__)


def request_restart(reason: str) -> None:
    log.error("restart_requested", reason=reason)
    os.kill(os.getpid(), signal.SIGTERM)


__all__ = ["request_restart"]
