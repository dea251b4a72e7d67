"""What the classifier's use case needs from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import numpy as np
from gemroll_common.errors import ObjectMissing
from gemroll_contracts import MediaClassified, TrainingCandidate

from .domain.duplicates import Shot
from .domain.faces import Face
from .domain.features import Prepared, PreparedClip, Unreadable


class ObjectReader(Protocol):
    async def read(self, bucket: str, key: str) -> bytes:
        """The object's bytes; `ObjectMissing` when it is not in the bucket (yet, or any
        more), `StoreUnavailable` (transient) when the store is down."""
        ...

    async def download(self, bucket: str, key: str, path: Path) -> int:
        """Stream the object into the file at `path` (never whole in memory); its size.
        Fails as `read` does."""
        ...


class Preparer(Protocol):
    """Decodes files into analysis images and model inputs (CPU threads or the GPU)."""

    async def prepare(self, blobs: Sequence[bytes]) -> list[Prepared | Unreadable]: ...


class ClipSampler(Protocol):
    """Samples a bounded number of key frames of a video file and prepares them as photos
    (never decoding the whole clip)."""

    async def sample(self, path: Path) -> PreparedClip | Unreadable: ...


class ImageModel(Protocol):
    name: str
    version: str
    device: str

    @property
    def categories(self) -> list[str]: ...

    def infer(self, inputs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(L2-normalised embeddings N x D, class probabilities N x C). Blocking."""
        ...


class NsfwModel(Protocol):
    def scores(self, images: Sequence[np.ndarray]) -> list[float]:
        """NSFW probability per RGB image. Blocking."""
        ...


class FaceDetector(Protocol):
    def detect(self, rgb: np.ndarray) -> tuple[Face, ...]:
        """Faces (boxes, probabilities, landmarks; never an identity) in an H x W x 3 uint8
        image, largest first. Blocking; safe to call from several threads at once."""
        ...


@dataclass(frozen=True)
class StoredResult:
    classified: MediaClassified
    candidate: TrainingCandidate | None


@dataclass(frozen=True)
class ResultRow:
    """One classified media item as the store keeps it."""

    media_id: UUID
    user_key: str
    captured_at: datetime | None
    category: str
    gem_score: float
    is_gem: bool
    quality_score: float
    duplicate_group: UUID | None
    is_best: bool
    phash: int | None
    embedding: np.ndarray | None
    reasons: tuple[str, ...]
    classified: MediaClassified
    candidate: TrainingCandidate | None


class ResultStore(Protocol):
    async def stored(self, media_ids: Sequence[UUID]) -> dict[UUID, StoredResult]:
        """Results already stored (a redelivered batch republishes them unchanged)."""
        ...

    async def recent_shots(self, user_key: str, since: datetime, limit: int) -> list[Shot]:
        """The user's readable media captured (or classified) since `since`, newest first,
        with their group and whether each is its group's current best."""
        ...

    async def save(self, rows: Sequence[ResultRow], group_bests: dict[UUID, UUID]) -> set[UUID]:
        """Store the rows and mark each touched group's current best, in one transaction.
        Returns the media ids inserted; the others were stored already (by a concurrent
        consumer after a rebalance) and keep their stored result, or are tombstoned."""
        ...

    async def erased(self, media_ids: Sequence[UUID]) -> set[UUID]:
        """The ids among these that were erased (tombstoned): never classify them again."""
        ...

    async def erase(self, user_key: str, media_ids: Sequence[UUID], *,
                    account: bool = False) -> int:
        """Delete the rows of these ids (with `account`, every row of the user) and keep a
        content-free tombstone of each id; `save` skips tombstoned ids. Idempotent."""
        ...


class EventSink(Protocol):
    async def classified(self, event: MediaClassified) -> None: ...

    async def candidate(self, event: TrainingCandidate) -> None: ...


__all__ = ["ClipSampler", "EventSink", "FaceDetector", "ImageModel", "NsfwModel",
           "ObjectMissing", "ObjectReader", "Preparer", "ResultRow", "ResultStore", "StoredResult"]
