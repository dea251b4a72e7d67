"""In-memory fakes of the classifier's ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import numpy as np
from gemroll_classifier.domain.duplicates import Shot
from gemroll_classifier.ports import ObjectMissing, ResultRow, StoredResult
from gemroll_contracts import MediaClassified, TrainingCandidate


class FakeReader:
    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects = dict(objects or {})
        self.reads: list[str] = []

    async def read(self, bucket: str, key: str) -> bytes:
        self.reads.append(key)
        if key not in self.objects:
            raise ObjectMissing(f"NoSuchKey: {bucket}/{key}")
        return self.objects[key]


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[UUID, ResultRow] = {}
        self.current_best: dict[UUID, bool] = {}

    async def stored(self, media_ids: Sequence[UUID]) -> dict[UUID, StoredResult]:
        return {m: StoredResult(self.rows[m].classified, self.rows[m].candidate)
                for m in media_ids if m in self.rows}

    async def recent_shots(self, user_key: str, since: datetime, limit: int) -> list[Shot]:
        rows = [r for r in self.rows.values() if r.user_key == user_key
                and r.embedding is not None]
        return [Shot(media_id=str(r.media_id), category=r.category, phash=r.phash or 0,
                     embedding=r.embedding, quality_score=r.quality_score,
                     captured_at=r.captured_at,
                     group_id=str(r.duplicate_group) if r.duplicate_group else None,
                     is_best=self.current_best[r.media_id]) for r in rows][:limit]

    async def save(self, rows: Sequence[ResultRow], group_bests: dict[UUID, UUID]) -> None:
        for row in rows:
            if row.media_id not in self.rows:
                self.rows[row.media_id] = row
                self.current_best[row.media_id] = row.is_best
        for group, best in group_bests.items():
            for r in self.rows.values():
                if r.duplicate_group == group:
                    self.current_best[r.media_id] = r.media_id == best

    async def erase(self, user_key: str, media_ids: Sequence[UUID]) -> int:
        gone = [m for m in media_ids if m in self.rows and self.rows[m].user_key == user_key]
        for m in gone:
            del self.rows[m]
        return len(gone)


class FakeSink:
    def __init__(self) -> None:
        self.events: list[MediaClassified] = []
        self.candidates: list[TrainingCandidate] = []

    async def classified(self, event: MediaClassified) -> None:
        self.events.append(event)

    async def candidate(self, event: TrainingCandidate) -> None:
        self.candidates.append(event)


class FakeModel:
    """Deterministic stand-in for MobileNetV2: embedding from a coarse thumbnail."""

    name = "fake"
    version = "1"
    device = "cpu"
    loaded = True

    def __init__(self) -> None:
        self.categories = [f"class{i}" for i in range(1000)]
        self.categories[916] = "web site"
        self.calls = 0

    def infer(self, inputs):  # noqa: ANN001, ANN201
        self.calls += 1
        embs, probs = [], []
        for x in inputs:
            small = np.asarray(x, dtype=np.float32)[::28, ::28].ravel()
            small = small - small.mean()
            embs.append(small / (np.linalg.norm(small) + 1e-6))
            p = np.full(1000, 1e-4, np.float32)
            p[0] = 1 - p.sum() + p[0]
            probs.append(p)
        return np.stack(embs).astype(np.float32), np.stack(probs)


class FakeNsfw:
    def __init__(self, score: float = 0.01) -> None:
        self.score = score
        self.seen = 0

    def scores(self, images):  # noqa: ANN001, ANN201
        self.seen += len(images)
        return [self.score] * len(images)
