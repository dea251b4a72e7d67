"""The one classification of transient failures: a dependency (PostgreSQL, Kafka, S3) is
down or busy, so the same work should be retried later (fail closed), never dead-lettered.

Everything else (bad data, a bug, an S3 AccessDenied/NoSuchBucket) is not transient.
"""

from __future__ import annotations

import asyncpg
import urllib3
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    UnknownProducerId,
)
from minio.error import S3Error, ServerError


class PoisonMessage(Exception):
    """The record can never be processed (bad shape, bad content): dead-letter it at once."""


class TransientError(Exception):
    """A dependency is down: retry the same work until it works (never dead-letter)."""


class ObjectStoreError(Exception):
    """A failure of the object store, typed by what the caller should do about it."""


class ObjectMissing(ObjectStoreError):
    """The object (or its bucket) does not exist."""


class StoreUnavailable(ObjectStoreError, TransientError):
    """The store is down, busy or throttling: retry later."""


class StoreFull(StoreUnavailable):
    """The store has no room for writes (reads still work): retry once an operator freed or
    added space. Transient for consumers; HTTP answers 507."""


STORE_FULL_CODES: frozenset[str] = frozenset({"XMinioStorageFull", "InsufficientStorage"})


class StoreRefused(ObjectStoreError):
    """The store refused the request for good (access denied, invalid name, ...)."""

TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TransientError,
    # OSError covers ConnectionError (refused/reset/aborted), socket errors; TimeoutError
    # is a subclass of OSError, asyncio.TimeoutError is TimeoutError on 3.11+.
    OSError,
    TimeoutError,
    # PostgreSQL
    asyncpg.PostgresConnectionError,  # includes ConnectionDoesNotExistError, ...
    asyncpg.InterfaceError,  # connection closed / being released mid-operation
    asyncpg.exceptions.InternalClientError,  # a connection cut mid-operation
    asyncpg.exceptions.OperatorInterventionError,  # AdminShutdown, CannotConnectNow, ...
    asyncpg.exceptions.InsufficientResourcesError,  # TooManyConnections, disk full, ...
    asyncpg.exceptions.TransactionRollbackError,  # serialization failure, deadlock
    asyncpg.exceptions.LockNotAvailableError,  # lock_timeout / NOWAIT
    asyncpg.exceptions.QueryCanceledError,  # statement_timeout
    # Kafka
    KafkaConnectionError,
    KafkaTimeoutError,
    # S3 transport (minio uses urllib3)
    urllib3.exceptions.HTTPError,  # MaxRetryError, ProtocolError, NewConnectionError, ...
)

TRANSIENT_S3_CODES: frozenset[str] = frozenset({
    "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed",
    "OperationAborted", "ThrottlingException", "Throttling", "RequestLimitExceeded",
})


def _s3_transient(exc: S3Error) -> bool:
    if exc.code in TRANSIENT_S3_CODES:
        return True
    status = getattr(getattr(exc, "response", None), "status", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


PRODUCER_STATE_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch)
"""The idempotent producer's sequence is out of step with the broker (after a long outage
batches timed out client-side): aiokafka does not bump its epoch, so the producer never
recovers (aio-libs/aiokafka#1017). Only a new producer does."""


def breaks_the_producer(exc: BaseException) -> bool:
    return isinstance(exc, PRODUCER_STATE_ERRORS) or isinstance(
        exc.__cause__, PRODUCER_STATE_ERRORS)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` means "a dependency is down or busy: retry the same work".

    An exception explicitly raised `from` a transient one counts too (a wrapper such as a
    domain `StorageUnavailable`), except `PoisonMessage`, which is final by definition.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PoisonMessage):
            return False
        if isinstance(current, TRANSIENT_TYPES):
            return True
        if isinstance(current, S3Error) and _s3_transient(current):
            return True
        if isinstance(current, ServerError) and (
                current.status_code >= 500 or current.status_code == 429):
            return True
        if isinstance(current, KafkaError) and getattr(current, "retriable", False):
            return True
        current = current.__cause__
    return False


__all__ = [
    "PRODUCER_STATE_ERRORS", "STORE_FULL_CODES", "TRANSIENT_S3_CODES", "TRANSIENT_TYPES",
    "ObjectMissing", "ObjectStoreError", "PoisonMessage", "StoreFull", "StoreRefused",
    "StoreUnavailable", "TransientError", "breaks_the_producer", "is_transient",
]
