"""In-memory fakes of the ingest ports, for the use-case tests."""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from gemroll_common.outbox import OutboxMessage
from gemroll_common.sniff import sniff_content_type
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.consent import ConsentState, allows_uploads
from gemroll_ingest.domain.errors import TooLarge, UnsupportedMediaType
from gemroll_ingest.domain.media import ImageFacts, MediaRecord, StagedFile
from gemroll_ingest.domain.paging import Cursor
from gemroll_ingest.domain.uploads import Upload
from gemroll_ingest.domain.verdicts import EVERYTHING, Facets, MediaFilter, Verdict
from gemroll_ingest.ports import DuplicateMedia, ErasedMedia
from gemroll_ingest.usecases import Deps, Limits, UseCases
from gemroll_ingest.usecases.janitor import Janitor


def staged(data: bytes, path: str = "/nonexistent") -> StagedFile:
    return StagedFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      head=data[:64])


class FakeMedia:
    def __init__(self, uploads: FakeUploads) -> None:
        self.uploads = uploads
        self.rows: dict[UUID, MediaRecord] = {}
        self.outbox: list[OutboxMessage] = []
        self.completed_uploads: list[UUID] = []
        self.fail_accept: Exception | None = None
        self.clock = datetime(2024, 1, 1, tzinfo=UTC)
        self.consent: FakeConsent | None = None
        """When set, acceptance checks the owner's projected consent (as the database does)."""
        self.lease_until: dict[UUID, datetime] = {}
        self.renewals = 0

    def hold(self, media_id: UUID, *, expired: bool = False) -> None:
        """Put `media_id` back to `storing` with a live lease (or one that ran out)."""
        self.rows[media_id] = self.rows[media_id].with_state("storing")
        self.lease_until[media_id] = self.clock + timedelta(seconds=-1 if expired else 30)

    async def find_live(self, user_key: str, sha256: str) -> MediaRecord | None:
        return next((r for r in self.rows.values() if r.user_key == user_key
                     and r.sha256 == sha256 and r.state in ("storing", "accepted")), None)

    async def reserve(self, record: MediaRecord, lease_s: float) -> None:
        if (existing := await self.find_live(record.user_key, record.sha256)) is not None:
            raise DuplicateMedia(existing)
        self.clock += timedelta(seconds=1)
        self.rows[record.media_id] = replace(record, state="storing", created_at=self.clock)
        self.lease_until[record.media_id] = self.clock + timedelta(seconds=lease_s)

    async def renew_lease(self, media_id: UUID, lease_s: float) -> bool:
        self.renewals += 1
        if (row := self.rows.get(media_id)) is None or row.state != "storing":
            return False
        self.lease_until[media_id] = self.clock + timedelta(seconds=lease_s)
        return True

    async def abandon_expired(self, media_id: UUID | None = None, *, limit: int = 500) -> int:
        expired = [r.media_id for r in self.rows.values() if r.state == "storing"
                   and self.lease_until[r.media_id] < self.clock
                   and media_id in (None, r.media_id)][:limit]
        for expired_id in expired:
            self.rows[expired_id] = self.rows[expired_id].with_state("abandoned")
        return len(expired)

    async def abandoned(self, limit: int) -> list[ErasedMedia]:
        return [ErasedMedia(r.media_id, r.object_key, r.poster_key) for r in self.rows.values()
                if r.state == "abandoned"][:limit]

    async def remove_abandoned(self, media_id: UUID) -> None:
        if (row := self.rows.get(media_id)) and row.state == "abandoned":
            del self.rows[media_id]

    async def accept(self, media_id: UUID, messages: Sequence[OutboxMessage], *,
                     complete_upload: UUID | None = None) -> bool:
        if self.fail_accept:
            raise self.fail_accept
        row = self.rows.get(media_id)
        if row is None or row.state != "storing":
            return False
        if self.consent is not None and not allows_uploads(
                await self.consent.get(row.user_key)):
            raise errors.ConsentRequired("camera-roll uploads need the user's opt-in")
        self.rows[media_id] = row.with_state("accepted")
        self.outbox.extend(messages)
        if complete_upload:
            self.completed_uploads.append(complete_upload)
            row = self.uploads.rows[complete_upload]
            self.uploads.rows[complete_upload] = replace(
                row, state="completed", outcome="accepted", media_id=media_id)
        return True

    async def discard(self, media_id: UUID) -> bool:
        if (row := self.rows.get(media_id)) and row.state == "storing":
            del self.rows[media_id]
            return True
        return False

    async def get(self, user_key: str, media_id: UUID) -> MediaRecord | None:
        row = self.rows.get(media_id)
        return row if row and row.user_key == user_key and row.state == "accepted" else None

    async def list(self, user_key: str, after: Cursor | None, limit: int,
                   where: MediaFilter = EVERYTHING) -> list[MediaRecord]:
        rows = sorted((r for r in self.rows.values()
                       if r.user_key == user_key and r.state == "accepted"
                       and _matches(r, where)),
                      key=lambda r: (r.created_at, r.media_id), reverse=True)
        if after:
            rows = [r for r in rows if (r.created_at, r.media_id) < (after.created_at,
                                                                     after.media_id)]
        return rows[:limit]

    async def mark_deleted(self, user_key: str, media_id: UUID, message: OutboxMessage) -> str:
        row = self.rows.get(media_id)
        if row is None or row.user_key != user_key or row.state not in ("accepted", "deleted"):
            return "missing"
        if row.state == "deleted":
            return "deleted"
        self.rows[media_id] = row.with_state("deleted")
        self.outbox.append(message)
        return "accepted"

    async def erasable(self, user_key: str, media_ids: Sequence[UUID]) -> list[ErasedMedia]:
        return [ErasedMedia(r.media_id, r.object_key, r.poster_key) for r in self.rows.values()
                if r.user_key == user_key and r.media_id in media_ids and r.state != "erased"]

    async def inventory(self, user_key: str, *,
                        created_at_or_before: datetime | None = None) -> list[ErasedMedia]:
        return [ErasedMedia(r.media_id, r.object_key, r.poster_key) for r in self.rows.values()
                if r.user_key == user_key and r.state != "erased"
                and (created_at_or_before is None or (r.created_at is not None
                                                      and r.created_at <= created_at_or_before))]

    async def tombstone(self, user_key: str, media_ids: Sequence[UUID], *,
                        account: bool = False) -> int:
        n = 0
        for media_id in media_ids:
            row = self.rows[media_id]
            self.rows[media_id] = MediaRecord(
                media_id=media_id, user_key=user_key, object_key="", content_type="",
                size_bytes=0, sha256="", width=0, height=0, captured_at=None, camera_make=None,
                camera_model=None, orientation=None, coarse_location=None, device=None,
                album=None, gps=None, source="", state="erased", created_at=row.created_at)
            n += 1
        self.outbox = [m for m in self.outbox if m.subject_id not in media_ids]
        return n

    async def record_verdict(self, media_id: UUID, verdict: Verdict) -> bool:
        row = self.rows.get(media_id)
        if row is None or row.state != "accepted":
            return False
        if row.verdict is not None and verdict.decided_at <= row.verdict.decided_at:
            return False  # as the repository's SQL: only a newer verdict replaces one
        self.rows[media_id] = replace(row, classified_at=row.classified_at or verdict.decided_at,
                                      verdict=verdict)
        return True

    async def facets(self, user_key: str) -> Facets:
        live = [r for r in self.rows.values() if r.user_key == user_key and r.state == "accepted"]
        junk = [r.verdict for r in live if r.verdict and not r.verdict.is_gem]
        signals = Counter(s for v in junk for s in v.signals)
        return Facets.of(len(live), sum(1 for r in live if r.verdict and r.verdict.is_gem),
                         len(junk), dict(signals))


def _matches(row: MediaRecord, where: MediaFilter) -> bool:
    v = row.verdict
    if where.verdict == "unclassified" and v is not None:
        return False
    if where.verdict in ("gem", "junk") and (v is None or v.is_gem != (where.verdict == "gem")):
        return False
    return where.signal is None or (v is not None and where.signal in v.signals)



class FakeUploads:
    def __init__(self) -> None:
        self.rows: dict[UUID, Upload] = {}
        self.staging_gone: set[UUID] = set()

    async def create(self, upload: Upload) -> None:
        self.rows[upload.upload_id] = upload

    async def get(self, user_key: str, upload_id: UUID) -> Upload | None:
        row = self.rows.get(upload_id)
        return row if row and row.user_key == user_key else None

    async def close(self, upload_id: UUID, *, state: str, outcome: str,
                    media_id: UUID | None = None) -> bool:
        row = self.rows[upload_id]
        if row.state != "pending":
            return False
        self.rows[upload_id] = replace(row, state=state, outcome=outcome, media_id=media_id)
        return True

    async def staging_deleted(self, upload_id: UUID) -> None:
        self.staging_gone.add(upload_id)

    async def expired(self, grace_s: int, limit: int) -> list[Upload]:
        return []

    async def leftover_staging(self, limit: int) -> list[Upload]:
        return []

    async def delete_for_user(self, user_key: str, *,
                              created_at_or_before: datetime | None = None) -> list[str]:
        gone = [k for k, u in self.rows.items() if u.user_key == user_key]
        keys = [self.rows[k].staging_key for k in gone]
        for k in gone:
            del self.rows[k]
        return keys


class FakeConsent:
    def __init__(self) -> None:
        self.states: dict[str, ConsentState] = {}

    async def get(self, user_key: str) -> ConsentState | None:
        return self.states.get(user_key)

    async def apply(self, state: ConsentState) -> bool:
        current = self.states.get(state.user_key)
        if current is not None and state.ledger_seq <= current.ledger_seq:  # the highest wins
            return False
        self.states[state.user_key] = state
        return True


@dataclass
class FakeBlobs:
    bucket: str = "gemroll-media"
    objects: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    """What `put_file` reads: path -> bytes."""
    fail_put: Exception | None = None
    deleted: list[str] = field(default_factory=list)

    async def put_file(self, key: str, path: str, size: int, content_type: str,
                       sha256: str) -> None:
        if self.fail_put:
            raise self.fail_put
        self.objects[key] = self.files[path]

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail_put:
            raise self.fail_put
        self.objects[key] = data

    async def size(self, key: str) -> int | None:
        return len(self.objects[key]) if key in self.objects else None

    @contextlib.asynccontextmanager
    async def download(self, key: str, max_bytes: int) -> AsyncIterator[StagedFile]:
        data = self.objects[key]
        if len(data) > max_bytes:
            raise TooLarge("too large")
        path = f"/tmp/fake-{key}"
        self.files[path] = data
        yield staged(data, path)

    async def copy(self, source: str, target: str, content_type: str, sha256: str) -> None:
        if self.fail_put:
            raise self.fail_put
        self.objects[target] = self.objects[source]

    async def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.objects.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        keys = [k for k in self.objects if k.startswith(prefix)]
        for k in keys:
            await self.delete(k)
        return len(keys)

    async def presigned_put(self, key: str, ttl_s: int) -> str:
        return f"https://s3.example/{self.bucket}/{key}?signature=x"


class FakeInspector:
    """Sniffs like the real one; every recognised image is 4x3 with no EXIF."""

    def __init__(self) -> None:
        self.refuse: Exception | None = None

    async def inspect(self, staged_file: StagedFile) -> ImageFacts:
        if self.refuse:
            raise self.refuse
        content_type = sniff_content_type(staged_file.head)
        if content_type is None:
            raise UnsupportedMediaType("nope")
        return ImageFacts(content_type=content_type, width=4, height=3)

    async def preview(self, path: str, long_side: int) -> bytes:
        return f"preview of {path} at {long_side}".encode()


@dataclass
class World:
    ingest: UseCases
    janitor: Janitor
    media: FakeMedia
    uploads: FakeUploads
    consent: FakeConsent
    blobs: FakeBlobs
    inspector: FakeInspector
    wakes: list[int]

    def stage(self, data: bytes) -> StagedFile:
        path = f"/tmp/upload-{hashlib.sha256(data).hexdigest()[:8]}"
        self.blobs.files[path] = data
        return staged(data, path)


def world(max_upload_bytes: int = 1000, *, reservation_lease_s: float = 30.0) -> World:
    uploads = FakeUploads()
    media, consent = FakeMedia(uploads), FakeConsent()
    blobs, inspector, wakes = FakeBlobs(), FakeInspector(), []
    deps = Deps(media=media, uploads=uploads, consent=consent, blobs=blobs, inspector=inspector,
                limits=Limits(max_upload_bytes=max_upload_bytes, presign_ttl_s=3600,
                              complete_grace_s=60, reservation_lease_s=reservation_lease_s),
                outbox_written=lambda: wakes.append(1))
    return World(UseCases.build(deps), Janitor(deps), media, uploads,
                 consent, blobs, inspector, wakes)
