"""Pipeline status: the classifier's verdict (MediaClassified) marks the media classified."""

from __future__ import annotations

from gemroll_contracts import MediaClassified

from ..ports import MediaRepository


class PipelineStatus:
    def __init__(self, media: MediaRepository) -> None:
        self._media = media

    async def classified(self, event: MediaClassified) -> bool:
        """True when it changed the status (a redelivery or unknown media changes nothing)."""
        return await self._media.mark_classified(event.data.media_id, event.occurred_at)
