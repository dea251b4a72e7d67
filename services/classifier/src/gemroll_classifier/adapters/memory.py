"""In-process adapters: objects from a dict, results in memory, events collected in lists.

Used by the evaluation and the benchmark (the full pipeline minus Kafka, S3 and PostgreSQL)
and by unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from uuid import UUID

from gemroll_common.errors import ObjectMissing
from gemroll_contracts import MediaClassified, TrainingCandidate

from ..domain.duplicates import Shot
from ..ports import ResultRow, StoredResult


class MemoryReader:
    """Objects by key; `load` may produce them lazily (e.g. from files)."""

    def __init__(self, objects: dict[str, bytes] | None = None,
                 load: Callable[[str], bytes | None] | None = None) -> None:
        self.objects = dict(objects or {})
        self._load = load
        self.reads: list[str] = []

    async def read(self, bucket: str, key: str) -> bytes:
        self.reads.append(key)
        if key in self.objects:
            return self.objects[key]
        blob = self._load(key) if self._load else None
        if blob is None:
            raise ObjectMissing(f"NoSuchKey: {bucket}/{key}")
        return blob

    async def download(self, bucket: str, key: str, path: Path) -> int:
        blob = await self.read(bucket, key)
        path.write_bytes(blob)  # noqa: ASYNC240 - in-memory test adapter
        return len(blob)


class MemoryResults:
    def __init__(self) -> None:
        self.rows: dict[UUID, ResultRow] = {}
        self.current_best: dict[UUID, bool] = {}
        self.tombstones: set[UUID] = set()

    async def stored(self, media_ids: Sequence[UUID]) -> dict[UUID, StoredResult]:
        return {m: StoredResult(self.rows[m].classified, self.rows[m].candidate)
                for m in media_ids if m in self.rows}

    async def recent_shots(self, user_key: str, since: datetime, limit: int) -> list[Shot]:
        def when(r: ResultRow) -> datetime:
            return r.captured_at or r.classified.occurred_at

        rows = sorted((r for r in self.rows.values() if r.user_key == user_key
                       and r.embedding is not None and when(r) >= since), key=when,
                      reverse=True)[:limit]
        return [Shot(media_id=str(r.media_id), category=r.category, phash=r.phash or 0,
                     embedding=r.embedding, quality_score=r.quality_score,
                     captured_at=r.captured_at,
                     group_id=str(r.duplicate_group) if r.duplicate_group else None,
                     is_best=self.current_best[r.media_id]) for r in rows]

    async def save(self, rows: Sequence[ResultRow], group_bests: dict[UUID, UUID]) -> set[UUID]:
        inserted = set()
        for row in rows:
            if row.media_id not in self.rows and row.media_id not in self.tombstones:
                self.rows[row.media_id] = row
                self.current_best[row.media_id] = row.is_best
                inserted.add(row.media_id)
        for group, best in group_bests.items():
            for r in self.rows.values():
                if r.duplicate_group == group:
                    self.current_best[r.media_id] = r.media_id == best
        return inserted

    async def erased(self, media_ids: Sequence[UUID]) -> set[UUID]:
        return {m for m in media_ids if m in self.tombstones}

    async def erase(self, user_key: str, media_ids: Sequence[UUID], *,
                    account: bool = False) -> int:
        gone = [m for m, r in self.rows.items() if r.user_key == user_key
                and (account or m in media_ids)]
        for m in gone:
            del self.rows[m]
            del self.current_best[m]
        self.tombstones.update(media_ids)
        self.tombstones.update(gone)
        return len(gone)


class ListSink:
    def __init__(self) -> None:
        self.events: list[MediaClassified] = []
        self.candidates: list[TrainingCandidate] = []

    async def classified(self, event: MediaClassified) -> None:
        self.events.append(event)

    async def candidate(self, event: TrainingCandidate) -> None:
        self.candidates.append(event)
