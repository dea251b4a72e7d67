"""Reading a user's media: one item, or pages newest first."""

from __future__ import annotations

from uuid import UUID

from ..domain import errors
from ..domain.media import MediaRecord
from ..domain.paging import Cursor, Page, page_of
from ..ports import MediaRepository


class Listing:
    def __init__(self, media: MediaRepository) -> None:
        self._media = media

    async def get(self, user_key: str, media_id: UUID) -> MediaRecord:
        record = await self._media.get(user_key, media_id)
        if record is None:
            raise errors.MediaNotFound(f"no media {media_id}")
        return record

    async def page(self, user_key: str, cursor: str | None, limit: int) -> Page:
        after = Cursor.decode(cursor) if cursor else None
        return page_of(await self._media.list(user_key, after, limit + 1), limit)
