"""gemroll_common.errors.is_transient: the one classification of transient failures."""

from __future__ import annotations

import asyncpg
import pytest
import urllib3
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
)
from gemroll_common.errors import is_transient
from gemroll_common.kafka import PoisonMessage, TransientError
from minio.error import S3Error, ServerError


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status
        self.headers: dict[str, str] = {}
        self.data = b""


def s3_error(code: str, status: int) -> S3Error:
    return S3Error(_Response(status), code, "msg", "/r", "req", "host")  # type: ignore[arg-type]


@pytest.mark.parametrize("exc", [
    TransientError("down"),
    OSError("refused"),
    ConnectionRefusedError(),
    ConnectionResetError(),
    TimeoutError(),
    asyncpg.PostgresConnectionError("x"),
    asyncpg.ConnectionDoesNotExistError("x"),
    asyncpg.InterfaceError("x"),
    asyncpg.AdminShutdownError("x"),
    asyncpg.CannotConnectNowError("x"),
    asyncpg.TooManyConnectionsError("x"),
    asyncpg.SerializationError("x"),
    asyncpg.DeadlockDetectedError("x"),
    asyncpg.exceptions.CrashShutdownError("x"),
    KafkaConnectionError(),
    KafkaTimeoutError(),
    RequestTimedOutError(),
    urllib3.exceptions.MaxRetryError(None, "/x"),  # type: ignore[arg-type]
    urllib3.exceptions.ProtocolError("reset"),
    urllib3.exceptions.NewConnectionError(None, "refused"),  # type: ignore[arg-type]
    s3_error("SlowDown", 503),
    s3_error("InternalError", 500),
    s3_error("ServiceUnavailable", 503),
    s3_error("Whatever", 502),
    ServerError("bad gateway", 502),
], ids=lambda e: type(e).__name__ + ":" + str(getattr(e, "code", "")))
def test_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    ValueError("bad"),
    KeyError("k"),
    PoisonMessage("bad record"),
    asyncpg.UniqueViolationError("dup"),
    asyncpg.UndefinedTableError("no table"),
    asyncpg.DataError("bad value"),
    TopicAuthorizationFailedError(),
    s3_error("AccessDenied", 403),
    s3_error("NoSuchBucket", 404),
    s3_error("NoSuchKey", 404),
    ServerError("not found", 404),
], ids=lambda e: type(e).__name__ + ":" + str(getattr(e, "code", "")))
def test_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_wrapped_with_cause_is_transient() -> None:
    class StorageDown(Exception):
        pass

    try:
        try:
            raise ConnectionRefusedError()
        except OSError as inner:
            raise StorageDown("s3 down") from inner
    except StorageDown as exc:
        assert is_transient(exc)


def test_poison_raised_from_transient_stays_poison() -> None:
    try:
        try:
            raise OSError()
        except OSError as inner:
            raise PoisonMessage("final") from inner
    except PoisonMessage as exc:
        assert not is_transient(exc)


def test_implicit_context_is_not_followed() -> None:
    try:
        try:
            raise OSError()
        except OSError:
            raise ValueError("a bug while handling")  # noqa: B904
    except ValueError as exc:
        assert not is_transient(exc)
