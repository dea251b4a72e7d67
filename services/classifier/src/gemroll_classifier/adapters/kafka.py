"""Publishing the classifier's events through the shared EventPublisher."""

from __future__ import annotations

from gemroll_common.kafka import EventPublisher
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    TRAINING_CANDIDATES,
    MediaClassified,
    TrainingCandidate,
)


class KafkaSink:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def classified(self, event: MediaClassified) -> None:
        await self._publisher.publish(MEDIA_CLASSIFIED, event, key=event.data.user_key)

    async def candidate(self, event: TrainingCandidate) -> None:
        await self._publisher.publish(TRAINING_CANDIDATES, event, key=event.data.user_key)
