"""Reading a user's media: one item, pages newest first (filtered by verdict and reason), the
counts behind the filters, small metadata-free previews, and motion photos' clips."""

from __future__ import annotations

from uuid import UUID

from ..domain import errors
from ..domain.media import MediaRecord
from ..domain.paging import Cursor, Page, page_of
from ..domain.verdicts import EVERYTHING, Facets, MediaFilter
from .deps import Deps


class Listing:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def get(self, user_key: str, media_id: UUID) -> MediaRecord:
        record = await self._deps.media.get(user_key, media_id)
        if record is None:
            raise errors.MediaNotFound(f"no media {media_id}")
        return record

    async def page(self, user_key: str, cursor: str | None, limit: int,
                   where: MediaFilter = EVERYTHING) -> Page:
        after = Cursor.decode(cursor) if cursor else None
        return page_of(await self._deps.media.list(user_key, after, limit + 1, where), limit)

    async def facets(self, user_key: str) -> Facets:
        return await self._deps.media.facets(user_key)

    async def preview(self, user_key: str, media_id: UUID, long_side: int) -> bytes:
        """Made from the original each time (the original is the only copy kept); a video's
        from its poster frame."""
        record = await self.get(user_key, media_id)
        if record.media_kind == "video" and record.poster_key is None:
            raise errors.MediaNotFound(f"video {media_id} has no poster")
        source = record.poster_key or record.object_key
        async with self._deps.blobs.download(source,
                                             self._deps.limits.max_upload_bytes) as staged:
            return await self._deps.inspector.preview(staged.path, long_side)

    async def motion_clip(self, user_key: str, media_id: UUID) -> bytes:
        """A motion photo's clip, metadata-free (the original keeps it behind the picture)."""
        record = await self.get(user_key, media_id)
        if record.motion_offset is None:
            raise errors.MediaNotFound(f"media {media_id} is no motion photo")
        async with self._deps.blobs.download(record.object_key,
                                             self._deps.limits.max_upload_bytes) as staged:
            return await self._deps.inspector.motion_clip(staged.path, record.motion_offset)
