"""Ports of the policy service: what the handlers need from storage and the outside world.

Fakes live in tests/unit/policy/fakes.py; adapters in `adapters/`.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from .domain import AuditRecord, Consent, MediaKey, Workspace
from .domain.audit import AuditEntry


@dataclass(frozen=True)
class LoadRequest:
    """What a batch touches. `full_users`: all media and candidates of these users."""

    candidate_ids: frozenset[UUID] = frozenset()
    media_keys: frozenset[MediaKey] = frozenset()
    users: frozenset[str] = frozenset()
    full_users: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OutboundMessage:
    """An event to publish: `topic` is the registry name (the adapter adds any suffix)."""

    topic: str
    key: bytes
    value: bytes
    event_type: str


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    message: OutboundMessage


@dataclass(frozen=True)
class ErasureJob:
    prefixes: tuple[str, ...]
    reason: str
    job_id: int | None = None


@dataclass
class Changes:
    """Everything one unit of work writes besides the workspace's own changes."""

    messages: list[OutboundMessage] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    erasure_jobs: list[ErasureJob] = field(default_factory=list)


class GateUnitOfWork(Protocol):
    """One database transaction, serialised with every other writer of the outbox and the
    audit log (so outbox sequence numbers commit in order and the hash chain is linear)."""

    async def load(self, request: LoadRequest) -> Workspace: ...

    async def retention_due(self, cutoff: datetime, limit: int) -> LoadRequest:
        """Media never saved or shared first seen before `cutoff`, and candidates pending
        since before it."""
        ...

    async def save(self, ws: Workspace, changes: Changes) -> list[OutboxRow]: ...


class GateStore(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[GateUnitOfWork]: ...


class ConsentUnitOfWork(Protocol):
    current: Consent | None

    async def append(self, user_key: str, consent: Consent, erase_data: bool,
                     event_id: UUID, changes: Changes) -> None: ...


class ConsentStore(Protocol):
    async def current(self, user_key: str) -> Consent | None: ...

    def change(self, user_key: str) -> AbstractAsyncContextManager[ConsentUnitOfWork]:
        """Locks the user's consent for a read-modify-append."""
        ...


class Outbox(Protocol):
    async def pending(self, from_seq: int, limit: int) -> list[OutboxRow]:
        """Rows with seq >= from_seq, in order; rows below it (published) are deleted."""
        ...

    async def align(self, committed: int | None) -> int:
        """The first unpublished seq, given the committed watermark (None: never committed)."""
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


class StorageUnavailable(Exception):
    """The object store failed (not "object missing"): retry the batch, decide nothing."""


class TrainingObjects(Protocol):
    """Copies admitted images to their pseudonymous training key, in `bucket`."""

    bucket: str

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        """Server-side copy (overwrites: the same key on a replay). False when the source
        object does not exist; raises StorageUnavailable on any other failure."""
        ...
