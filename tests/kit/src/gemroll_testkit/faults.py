"""Every kind of transient failure a service meets, as exceptions to inject: a consumer must
retry each (never dead-letter it), an API must answer 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import asyncpg
import urllib3
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NotLeaderForPartitionError
from gemroll_common.consumer import FailurePolicy
from gemroll_common.errors import StoreUnavailable, TransientError
from gemroll_common.retry import Backoff
from minio.error import S3Error


def _s3(code: str, status: int) -> S3Error:
    response = urllib3.HTTPResponse(status=status)
    return S3Error(response, code, f"{code} (injected)", "key", "request-id", "host-id")


TRANSIENT_ERRORS: dict[str, Callable[[], BaseException]] = {
    # PostgreSQL restarting, failing over, overloaded, or a connection cut mid-query
    "pg_admin_shutdown": lambda: asyncpg.exceptions.AdminShutdownError("terminating connection"),
    "pg_cannot_connect_now": lambda: asyncpg.exceptions.CannotConnectNowError("starting up"),
    "pg_connection_lost": lambda: asyncpg.exceptions.ConnectionDoesNotExistError("lost"),
    "pg_too_many_connections": lambda: asyncpg.exceptions.TooManyConnectionsError("too many"),
    "pg_serialization_failure": lambda: asyncpg.exceptions.SerializationError("retry"),
    "pg_deadlock": lambda: asyncpg.exceptions.DeadlockDetectedError("deadlock"),
    "pg_interface_closed": lambda: asyncpg.InterfaceError("connection is closed"),
    "pg_cut_mid_query": lambda: asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15"),
    # The network
    "connection_refused": lambda: ConnectionRefusedError(111, "Connection refused"),
    "timeout": lambda: TimeoutError("timed out"),
    # Kafka
    "kafka_connection": lambda: KafkaConnectionError("broker unreachable"),
    "kafka_timeout": lambda: KafkaTimeoutError(),
    "kafka_not_leader": lambda: NotLeaderForPartitionError(),
    # S3
    "s3_slow_down": lambda: _s3("SlowDown", 503),
    "s3_internal_error": lambda: _s3("InternalError", 500),
    "s3_transport": lambda: urllib3.exceptions.ProtocolError("connection aborted"),
    "s3_retries_exhausted": lambda: urllib3.exceptions.MaxRetryError(
        None, "/gemroll-media/key", "connection refused"),  # type: ignore[arg-type]
    "store_unavailable": lambda: StoreUnavailable("object store failed (injected)"),
    # Raised explicitly by a use case
    "transient_error": lambda: TransientError("dependency down (injected)"),
}
"""A factory per kind: each injection gets a fresh exception."""


class FailingTimes:
    """Raises `error()` the first `times` calls, then lets them through; counts the calls."""

    def __init__(self, error: Callable[[], BaseException], times: int = 2) -> None:
        self._error = error
        self._left = times
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self._left > 0:
            self._left -= 1
            raise self._error()


class Faults:
    """Failures to raise per item (media id, ...): an adapter calls `inject(ids)` before its
    real work; the test sets `by_item[id] = FailingTimes(...)`."""

    def __init__(self) -> None:
        self.by_item: dict[Hashable, FailingTimes] = {}

    def inject(self, ids: Iterable[Hashable]) -> None:
        for item in ids:
            if (fault := self.by_item.get(item)) is not None:
                fault()


def bug() -> ValueError:
    """A failure that is not transient: bounded attempts, then a dead letter."""
    return ValueError("a bug in the repository (injected)")


RETRY_ONLY_TRANSIENT = FailurePolicy(max_attempts=1, backoff=Backoff(0.02, 0.1))
"""A runner policy under which a retry can only come from `is_transient` (a bug gets one
attempt), with a short backoff."""


__all__ = ["RETRY_ONLY_TRANSIENT", "TRANSIENT_ERRORS", "FailingTimes", "Faults", "bug"]
