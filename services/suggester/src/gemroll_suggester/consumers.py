"""The suggester's subscriptions: each consumed topic's events go to their use case, through
the common runner (registry consumer groups, retries, dead letters). Classifications come in
batches (one transaction per poll); the rest one at a time."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from gemroll_common.consumer import Consumers, Failure, Skipped
from gemroll_contracts import (
    CONSENT,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    USER_ACTIONS,
    MediaClassified,
)

from .usecases import Deps, intake


def subscribe(consumers: Consumers, deps: Deps) -> None:
    async def on_classified(events: list[MediaClassified]) -> dict[UUID, Failure | Skipped]:
        await intake.media_classified_batch(deps, events)
        return {}

    consumers.subscribe_batch(MEDIA_CLASSIFIED, on_classified,
                              max_records=deps.settings.intake_batch_max,
                              timeout_ms=deps.settings.intake_batch_timeout_ms)
    consumers.subscribe(CONSENT, partial(intake.consent_changed, deps))
    consumers.subscribe(USER_ACTIONS, partial(intake.user_action, deps))
    consumers.subscribe(MEDIA_ERASED, partial(intake.media_erased, deps))
