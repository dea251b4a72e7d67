"""In-memory adapters with the same behaviour as the PostgreSQL ones (for fast tests).

Units of work see copies and change nothing until `save`; an exception discards them.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

from gemroll_common.outbox import OutboxRow

from ..domain import AuditRecord, Consent, Media, MediaKey, Pseudonymizer, Workspace, chain
from ..domain.audit import GENESIS
from ..domain.model import Candidate, CandidateStatus, Tombstone
from ..ports import (
    COPY_CLAIM,
    Changes,
    CopyClaim,
    ErasureJob,
    LoadRequest,
    UnusableSource,
    copy_retry_delay,
)


class InMemoryPolicyStore:
    """Gate store, consent store, audit reader and erasure queue in one object; `outbox`
    holds the rows as the kit's outbox would (never published: tests read them)."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        self.pseudonyms = pseudonyms
        self.consents: dict[str, Consent] = {}
        self.copy_retries: dict[UUID, tuple[int, datetime]] = {}
        """Held admissions whose copy failed: attempts and when to try again."""
        self.copy_traces: dict[UUID, str | None] = {}
        self.copy_intents: dict[UUID, tuple[str, datetime]] = {}
        """Training copies written, by candidate, until the candidate is admitted."""
        self.fail_at_save: BaseException | None = None
        """Raise this from the next save (a commit that fails after the copies)."""
        self.ledger: list[tuple[str, Consent, bool, UUID]] = []
        self.media: dict[MediaKey, Media] = {}
        self.candidates: dict[UUID, Candidate] = {}
        self.tombstones: dict[MediaKey, Tombstone] = {}
        self.outbox: list[OutboxRow] = []
        self.audit: list[AuditRecord] = []
        self.jobs: dict[int, ErasureJob] = {}
        self.fail_next: BaseException | None = None
        """Raise this from the next unit of work (simulates an unreachable database)."""
        self._seq = 0
        self._job_seq = 0
        self._lock = asyncio.Lock()

    # -- gate store ------------------------------------------------------------------------
    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[_MemoryUnitOfWork]:
        async with self._lock:
            self._maybe_fail()
            yield _MemoryUnitOfWork(self)

    async def record_copies(self, copies: Sequence[tuple[UUID, str]], at: datetime) -> None:
        for candidate_id, key in copies:
            self.copy_intents.setdefault(candidate_id, (key, at))

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def _append(self, changes: Changes) -> None:
        if changes.audit:
            last = self.audit[-1] if self.audit else None
            self.audit += chain(changes.audit, after_seq=last.seq if last else 0,
                                prev_hash=last.row_hash if last else GENESIS,
                                recorded_at=datetime.now(UTC))
        for job in changes.erasure_jobs:
            self._job_seq += 1
            self.jobs[self._job_seq] = ErasureJob(job.prefixes, job.reason, self._job_seq)
        for m in changes.messages:
            self._seq += 1
            self.outbox.append(OutboxRow(self._seq, m.topic.name, m.key, m.event.event_type,
                                         m.event.to_json(), m.subject_id))

    # -- consent store ----------------------------------------------------------------------
    async def current(self, user_key: str) -> Consent | None:
        self._maybe_fail()
        return self.consents.get(user_key)

    @asynccontextmanager
    async def change(self, user_key: str) -> AsyncIterator[_MemoryConsentUnitOfWork]:
        async with self._lock:
            self._maybe_fail()
            yield _MemoryConsentUnitOfWork(self, self.consents.get(user_key))

    # -- audit reader -----------------------------------------------------------------------
    async def records(self, subject: str | None = None) -> list[AuditRecord]:
        return [r for r in self.audit if subject is None or r.subject == subject]

    # -- erasure queue ----------------------------------------------------------------------
    async def due(self, limit: int) -> list[ErasureJob]:
        return list(self.jobs.values())[:limit]

    async def done(self, job_id: int) -> None:
        self.jobs.pop(job_id, None)

    async def failed(self, job_id: int, error: str) -> None:
        pass

    # -- inspection for tests -----------------------------------------------------------------
    def messages(self, topic: str | None = None) -> list[OutboxRow]:
        """The outbox rows (of one topic, by its registry name)."""
        return [r for r in self.outbox if topic is None or r.topic == topic]


class _MemoryUnitOfWork:
    def __init__(self, store: InMemoryPolicyStore) -> None:
        self.store = store

    async def load(self, request: LoadRequest) -> Workspace:
        s = self.store
        users = request.users | request.full_users
        keys = {k for k in request.media_keys if k in s.media}
        keys |= {k for k in s.media if k[0] in request.full_users}
        candidates = [c for c in s.candidates.values()
                      if c.candidate_id in request.candidate_ids or c.media_key in keys]
        return Workspace(
            consents={u: s.consents[u] for u in users if u in s.consents},
            media=copy.deepcopy([s.media[k] for k in keys]),
            candidates=copy.deepcopy(candidates),
            tombstones=copy.deepcopy([t for k, t in s.tombstones.items()
                                      if k in request.media_keys]),
        )

    async def retention_due(self, cutoff: datetime, limit: int) -> LoadRequest:
        s = self.store
        media = sorted((m for m in s.media.values() if not m.kept and m.first_seen_at < cutoff),
                       key=lambda m: m.first_seen_at)[:limit]
        pending = sorted((c for c in s.candidates.values()
                          if c.status is CandidateStatus.pending and c.proposed_at < cutoff),
                         key=lambda c: c.proposed_at)[:limit]
        keys = {m.key for m in media} | {c.media_key for c in pending}
        return LoadRequest(candidate_ids=frozenset(c.candidate_id for c in pending),
                           media_keys=frozenset(keys), users=frozenset(u for u, _ in keys))

    async def claim_copies(self, now: datetime, limit: int) -> CopyClaim:
        s = self.store
        for cid in [c for c in s.copy_retries if c not in s.candidates]:
            del s.copy_retries[cid]  # erased meanwhile
        due = [cid for cid, at in sorted(s.copy_retries.items(), key=lambda i: i[1][1])
               if at[1] <= now][:limit]
        for cid in due:
            s.copy_retries[cid] = (s.copy_retries[cid][0], now + COPY_CLAIM)
        keys = {s.candidates[cid].media_key for cid in due}
        return CopyClaim(LoadRequest(candidate_ids=frozenset(due), media_keys=frozenset(keys),
                                     users=frozenset(u for u, _ in keys)),
                         {cid: s.copy_traces.get(cid) for cid in due})

    async def orphaned_copies(self, written_before: datetime, limit: int) -> list[str]:
        s = self.store
        final = (CandidateStatus.rejected, CandidateStatus.retracted)
        orphans = [cid for cid, (_, at) in s.copy_intents.items()
                   if (cid in s.candidates and s.candidates[cid].status in final
                       and at < written_before)
                   or (cid not in s.candidates and at < written_before - timedelta(days=1))]
        return [s.copy_intents.pop(cid)[0] for cid in orphans[:limit]]

    async def save(self, ws: Workspace, changes: Changes) -> None:
        s = self.store
        if s.fail_at_save is not None:
            exc, s.fail_at_save = s.fail_at_save, None
            raise exc
        for cid in ws.changed_candidates:
            c = ws.candidates.get(cid)
            if c is not None and c.status is CandidateStatus.admitted:
                s.copy_intents.pop(cid, None)
        for cid in changes.copies_withdrawn:
            s.copy_retries.pop(cid, None)
        for cid, trace_id in changes.copies_due.items():
            if cid not in s.copy_retries:
                s.copy_retries[cid] = (0, changes.now or datetime.now(UTC))
                s.copy_traces[cid] = trace_id
        for cid in changes.copy_retries:
            attempts = s.copy_retries.get(cid, (0, None))[0] + 1
            s.copy_retries[cid] = (attempts, (changes.now or datetime.now(UTC))
                                   + copy_retry_delay(attempts))
        for cid in ws.changed_candidates:
            c = ws.candidates.get(cid)
            if (c is None or c.status is not CandidateStatus.pending) and cid in s.copy_retries:
                del s.copy_retries[cid]
        for user_key in ws.changed_consents:  # loaded under the lock: current
            s.consents[user_key] = ws.consents[user_key]
        for key in ws.changed_media:
            if key in ws.media:
                s.media[key] = copy.deepcopy(ws.media[key])
        for candidate_id in ws.changed_candidates:
            if candidate_id in ws.candidates:
                s.candidates[candidate_id] = copy.deepcopy(ws.candidates[candidate_id])
        for key in ws.erased:
            s.media.pop(key, None)
            for c in [c for c in s.candidates.values() if c.media_key == key]:
                del s.candidates[c.candidate_id]
        for key in ws.changed_tombstones:
            new_stone = copy.deepcopy(ws.tombstones[key])
            old_stone = s.tombstones.get(key)
            if old_stone is not None:
                new_stone.candidate_ids |= old_stone.candidate_ids
            s.tombstones[key] = new_stone
        s._append(changes)  # noqa: SLF001 - same adapter


class _MemoryConsentUnitOfWork:
    def __init__(self, store: InMemoryPolicyStore, current: Consent | None) -> None:
        self.store = store
        self.current = current

    async def append(self, user_key: str, consent: Consent, erase_data: bool, event_id: UUID,
                     changes: Changes) -> None:
        self.store.ledger.append((user_key, consent, erase_data, event_id))
        self.store.consents[user_key] = consent
        self.store._append(changes)  # noqa: SLF001 - same adapter


class InMemoryObjects:
    """The object store as far as the gate and the erasure worker use it (TrainingObjects and
    ObjectEraser). Sources are present unless listed in `missing`."""

    def __init__(self, bucket: str = "gemroll-media") -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self.missing: set[str] = set()
        self.unusable: set[str] = set()
        """Sources that can never be copied (not an image)."""
        self.fail_next: BaseException | None = None
        """Raise this from the next copy (simulates an unreachable object store)."""
        self.copies = 0

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        if source_key in self.missing:
            return False
        if source_key in self.unusable:
            raise UnusableSource("cannot read the image")
        self.copies += 1
        self.objects[training_key] = self.objects.get(source_key, b"")
        return True

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self.objects if k.startswith(prefix)]
        for key in doomed:
            del self.objects[key]
        return len(doomed)

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))


__all__ = ["InMemoryObjects", "InMemoryPolicyStore"]
