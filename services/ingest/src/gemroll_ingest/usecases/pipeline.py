"""Pipeline status: the classifier's verdict (MediaClassified) marks the media classified and
is kept for the listing (the newest verdict wins)."""

from __future__ import annotations

from gemroll_contracts import MediaClassified

from ..domain.verdicts import verdict_of
from ..ports import MediaRepository


class PipelineStatus:
    def __init__(self, media: MediaRepository) -> None:
        self._media = media

    async def classified(self, event: MediaClassified) -> bool:
        """True when it changed the record (a redelivery, a stale verdict or unknown media
        changes nothing)."""
        return await self._media.record_verdict(event.data.media_id, verdict_of(event))
