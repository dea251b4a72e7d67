"""The suggester's subscriptions: each consumed topic's events go to their use case, through
the common runner (registry consumer groups, retries, dead letters)."""

from __future__ import annotations

from functools import partial

from gemroll_common.consumer import Consumers
from gemroll_contracts import CONSENT, MEDIA_CLASSIFIED, MEDIA_ERASED, USER_ACTIONS

from .usecases import Deps, intake


def subscribe(consumers: Consumers, deps: Deps) -> None:
    consumers.subscribe(MEDIA_CLASSIFIED, partial(intake.media_classified, deps))
    consumers.subscribe(CONSENT, partial(intake.consent_changed, deps))
    consumers.subscribe(USER_ACTIONS, partial(intake.user_action, deps))
    consumers.subscribe(MEDIA_ERASED, partial(intake.media_erased, deps))
