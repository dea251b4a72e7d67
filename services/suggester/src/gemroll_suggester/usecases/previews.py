"""The planner's image work: load originals, analyse photos for edits, render previews.
Blocking image code runs in threads, at most `render_concurrency` at a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from uuid import UUID

from gemroll_common.errors import ObjectMissing
from gemroll_common.logging import get_logger
from gemroll_contracts import EditRecipe, SuggestionKind
from PIL import Image

from .. import rendering
from ..domain import Change, MediaItem
from ..domain.model import preview_key
from ..metrics import RENDER_SECONDS
from ..ports import ObjectStorage
from ..settings import SuggesterSettings

log = get_logger(__name__)
T = TypeVar("T")


class Previews:
    def __init__(self, storage: ObjectStorage, settings: SuggesterSettings) -> None:
        self._storage = storage
        self._settings = settings
        self._renders = asyncio.Semaphore(settings.render_concurrency)

    async def load(self, media: dict[UUID, MediaItem], ids: Iterable[UUID],
                   images: dict[UUID, Image.Image]) -> set[UUID]:
        """Fetch and decode originals into `images`; returns the ids that are missing or
        unreadable. Storage outages raise (the planner retries the event later)."""
        max_side = self._settings.preview_max_side

        async def one(item: MediaItem) -> UUID | None:
            try:
                if item.picture_key is None:  # a video the ingest could not make a poster of
                    raise ObjectMissing(f"{item.media_kind} without a picture")
                data = await self._storage.get(item.picture_key, bucket=item.bucket)
                images[item.media_id] = await asyncio.to_thread(rendering.decode, data, max_side)
            except (ObjectMissing, rendering.UnreadableImage) as exc:
                log.warning("original_unusable", media_id=str(item.media_id),
                            error_type=type(exc).__name__)
                return item.media_id
            return None

        results = await asyncio.gather(*(one(media[i]) for i in ids if i in media))
        return {r for r in results if r is not None}

    async def _timed(self, kind: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._renders:
            started = time.perf_counter()
            try:
                return await asyncio.to_thread(fn, *args, **kwargs)
            finally:
                RENDER_SECONDS.labels(kind).observe(time.perf_counter() - started)

    async def analyse(self, items: Sequence[MediaItem],
                      images: dict[UUID, Image.Image]) -> list[EditRecipe]:
        """The auto-enhance recipe of each photo (in order)."""
        return list(await asyncio.gather(*(
            self._timed("analyse", rendering.auto_enhance, images[item.media_id],
                        face_count=item.face_count, faces=item.faces) for item in items)))

    async def render(self, change: Change, media: dict[UUID, MediaItem],
                     images: dict[UUID, Image.Image]) -> Change:
        """Render and store the preview of the change's revision; the change points at it."""
        record = change.record
        settings = self._settings
        pictures = [images[i] for i in record.media_ids if i in images]
        if not pictures:
            raise RuntimeError(f"no readable photo for suggestion {record.suggestion_id}")
        if record.kind is SuggestionKind.edit:
            assert record.recipe is not None
            image = await self._timed("edit", rendering.edit_preview, pictures[0], record.recipe,
                                      settings.preview_max_side)
        elif record.kind is SuggestionKind.highlight:
            ranked = sorted((i for i in record.media_ids if i in images),
                            key=lambda i: (-media[i].gem_score, str(i)))
            image = await self._timed("highlight", rendering.highlight_cover,
                                      [images[i] for i in ranked], settings.cover_width,
                                      [media[i].faces for i in ranked])
        else:
            if len(pictures) < 2:
                raise RuntimeError(f"collage {record.suggestion_id} has fewer than 2 photos")
            shown = [i for i in record.media_ids if i in images]
            image = await self._timed("collage", rendering.collage, pictures,
                                      settings.collage_width,
                                      [media[i].faces if i in media else None for i in shown])
        data = await asyncio.to_thread(rendering.encode_jpeg, image, settings.jpeg_quality)
        key = preview_key(record.user_key, record.suggestion_id, record.revision)
        await self._storage.put(key, data, "image/jpeg")
        return replace(change, record=replace(record, preview_object_key=key))
