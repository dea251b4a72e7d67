"""Ports of the policy service: what the use cases need from storage and the outside world.

In-memory fakes live in `adapters/memory.py`; the real adapters next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from gemroll_common.errors import TransientError
from gemroll_common.outbox import OutboxMessage
from gemroll_common.propagation import Applied
from gemroll_common.retry import Backoff

from .domain import AuditEntry, AuditRecord, Consent, MediaKey, Workspace


@dataclass(frozen=True)
class LoadRequest:
    """What a batch touches. `full_users`: all media and candidates of these users."""

    candidate_ids: frozenset[UUID] = frozenset()
    media_keys: frozenset[MediaKey] = frozenset()
    users: frozenset[str] = frozenset()
    full_users: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CopyClaim:
    """Admissions claimed for their training copy, and the trace each continues."""

    request: LoadRequest = LoadRequest()
    traces: dict[UUID, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ErasureJob:
    prefixes: tuple[str, ...]
    reason: str
    job_id: int | None = None


@dataclass
class Changes:
    """Everything one unit of work writes besides the workspace's own changes."""

    messages: list[OutboxMessage] = field(default_factory=list)
    """Events to publish (the gate relays the outbox exactly once)."""
    audit: list[AuditEntry] = field(default_factory=list)
    erasure_jobs: list[ErasureJob] = field(default_factory=list)
    copies_due: dict[UUID, str | None] = field(default_factory=dict)
    """Admissions waiting for their training copy, made outside the unit of work, with the
    trace of the event that admitted each."""
    copy_retries: list[UUID] = field(default_factory=list)
    """Admissions whose training copy failed transiently: held, tried again soon."""
    copies_withdrawn: list[UUID] = field(default_factory=list)
    """Candidates that waited for a copy and are not admitted any more: out of the queue."""
    now: datetime | None = None
    """The unit of work's instant (when retries are counted from)."""

    def merge(self, other: Changes) -> Changes:
        self.messages += other.messages
        self.audit += other.audit
        self.erasure_jobs += other.erasure_jobs
        self.copies_due |= other.copies_due
        self.copy_retries += other.copy_retries
        self.copies_withdrawn += other.copies_withdrawn
        self.now = self.now or other.now
        return self


COPY_RETRY = Backoff(1.0, 60.0)
"""Backoff of a held admission whose copy failed: 1 s, 2 s, 4 s ... at most a minute."""


COPY_CLAIM = timedelta(seconds=30)
"""How long a gate instance may take to copy what it claimed before another may claim it."""


def copy_retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=COPY_RETRY.delay(attempts))


class GateUnitOfWork(Protocol):
    """One database transaction, serialised with every other writer of the outbox and the
    audit log (so outbox ids commit in order and the hash chain is linear)."""

    async def load(self, request: LoadRequest) -> Workspace: ...

    async def retention_due(self, cutoff: datetime, limit: int) -> LoadRequest:
        """Media never saved or shared first seen before `cutoff`, and candidates pending
        since before it."""
        ...

    async def claim_copies(self, now: datetime, limit: int) -> CopyClaim:
        """Admissions whose training copy is due (new, or failed before and due again),
        claimed for COPY_CLAIM: another gate instance leaves them alone meanwhile."""
        ...

    async def orphaned_copies(self, written_before: datetime, limit: int) -> list[str]:
        """Training keys written before `written_before` whose candidate was finally not
        admitted (its unit of work rolled back, then it was rejected or retracted), or never
        stored for a day: forgotten here, and the caller queues their erasure in the same
        unit of work. Candidates that may still be admitted are never in the list."""
        ...

    async def save(self, ws: Workspace, changes: Changes) -> None: ...


class GateStore(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[GateUnitOfWork]: ...

    async def record_copies(self, copies: Sequence[tuple[UUID, str]], at: datetime) -> None:
        """Record (candidate id, training key) before the copies are written, committed on
        its own: a copy whose unit of work then rolls back is found and erased later."""
        ...


class ConsentUnitOfWork(Protocol):
    current: Consent | None

    async def append(self, user_key: str, consent: Consent, erase_data: bool,
                     event_id: UUID, changes: Changes) -> None: ...


class ConsentStore(Protocol):
    async def current(self, user_key: str) -> Consent | None: ...

    def change(self, user_key: str) -> AbstractAsyncContextManager[ConsentUnitOfWork]:
        """Locks the user's consent for a read-modify-append."""
        ...


class ChangePropagation(Protocol):
    async def wait(self, key: str) -> Applied:
        """Until every service that projects the user's consent has processed its latest
        change, or a bounded time has passed (`gemroll_common.propagation`)."""
        ...


class AuditReader(Protocol):
    async def records(self, subject: str | None = None) -> list[AuditRecord]:
        """Audit records in `seq` order (of one subject, or all)."""
        ...


class ErasureQueue(Protocol):
    async def due(self, limit: int) -> list[ErasureJob]: ...

    async def done(self, job_id: int) -> None: ...

    async def failed(self, job_id: int, error: str) -> None: ...


class ObjectEraser(Protocol):
    async def delete_prefix(self, prefix: str) -> int: ...


class StorageUnavailable(TransientError):
    """The object store failed transiently (down, slow, 5xx): the admission waits and is
    tried again; nothing else in the batch waits for it."""


class UnusableSource(Exception):
    """The source can never become a clean training copy (not an image, refused by the
    store): the candidate is rejected with `source_unusable`."""


class TrainingObjects(Protocol):
    """Copies admitted images to their pseudonymous training key, in `bucket`."""

    bucket: str

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        """Write a metadata-free copy of the source (overwrites: the same key on a replay).
        False when the source object does not exist; raises UnusableSource when it can never
        be copied, StorageUnavailable on a transient failure."""
        ...
