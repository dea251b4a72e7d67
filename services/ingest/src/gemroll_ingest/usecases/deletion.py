"""Deleting a photo: marked deleted and announced (UserAction media_deleted). Erasing the
bytes is the policy service's decision (MediaErased)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_common.outbox import OutboxMessage
from gemroll_contracts import USER_ACTIONS

from ..domain import errors
from ..domain.media import media_deleted
from ..ports import MediaRepository

log = get_logger(__name__)


class Deletion:
    def __init__(self, media: MediaRepository, outbox_written: Callable[[], None]) -> None:
        self._media = media
        self._outbox_written = outbox_written

    async def delete(self, user_key: str, media_id: UUID) -> None:
        """Idempotent: deleting a deleted photo announces nothing again."""
        message = OutboxMessage(USER_ACTIONS, user_key, media_deleted(user_key, media_id),
                                media_id)
        state = await self._media.mark_deleted(user_key, media_id, message)
        if state == "missing":
            raise errors.MediaNotFound(f"no media {media_id}")
        if state == "accepted":
            self._outbox_written()
            log.info("media_deleted", media_id=str(media_id))
