"""The ingest's consumers: a dependency outage becomes TransientError (retried until it
works, never dead-lettered); a bug stays itself (bounded retries, then the dead letter)."""

from __future__ import annotations

import asyncpg
import pytest
import urllib3
from gemroll_common.kafka import TransientError
from gemroll_ingest.adapters.kafka import _transient, is_infrastructure_error
from gemroll_ingest.domain.errors import StorageUnavailable


@pytest.mark.parametrize("error", [
    asyncpg.CannotConnectNowError("starting up"),
    asyncpg.AdminShutdownError("admin shutdown"),
    asyncpg.TooManyConnectionsError("too many"),
    asyncpg.SerializationError("could not serialize"),
    asyncpg.DeadlockDetectedError("deadlock"),
    ConnectionResetError(),
    urllib3.exceptions.ProtocolError("reset"),
    StorageUnavailable("object store failed to delete objects"),
], ids=lambda e: type(e).__name__)
async def test_outages_become_transient(error: BaseException) -> None:
    async def handle(_: object) -> None:
        raise error

    assert is_infrastructure_error(error)
    with pytest.raises(TransientError):
        await _transient(handle)(object())


async def test_bugs_are_not_transient() -> None:
    async def handle(_: object) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await _transient(handle)(object())
