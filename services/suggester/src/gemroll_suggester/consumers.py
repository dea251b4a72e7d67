"""Kafka subscribers: parse the contract event, call the use case, done."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
import urllib3
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from gemroll_common.errors import is_transient
from gemroll_common.kafka import TransientError, topic_name
from gemroll_common.settings import KafkaSettings
from gemroll_common.storage import S3Error
from gemroll_contracts import (
    CONSENT,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    USER_ACTIONS,
    ConsentChanged,
    MediaClassified,
    MediaErased,
    Topic,
    UserAction,
)

from . import handlers
from .handlers import Deps

T = TypeVar("T")

INFRASTRUCTURE_DOWN: tuple[type[BaseException], ...] = (
    OSError,  # connection refused/reset, timeouts
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    urllib3.exceptions.HTTPError,
)


async def retry_while_down(work: Awaitable[T], *, s3_too: bool = False) -> T:
    """Dependency outages become TransientError: the record is retried, in order, forever.

    With `s3_too`, any S3 error counts (removals must never be dead-lettered half done).
    """
    down = (*INFRASTRUCTURE_DOWN, S3Error) if s3_too else INFRASTRUCTURE_DOWN
    try:
        return await work
    except TransientError:
        raise
    except Exception as exc:
        if isinstance(exc, down) or is_transient(exc):
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        raise


def register(broker: KafkaBroker, deps: Deps, kafka: KafkaSettings) -> list[Any]:
    """Subscribe the suggester's consumers; returns the subscribers (for readiness and lag)."""
    group = deps.settings.consumer_group
    subscribers: list[Any] = []

    def subscribe(topic: Topic, name: str) -> Any:
        subscriber = broker.subscriber(
            topic_name(topic, kafka), group_id=f"{group}.{name}",
            auto_offset_reset="earliest", ack_policy=AckPolicy.ACK,
        )
        subscribers.append(subscriber)
        return subscriber

    @subscribe(MEDIA_CLASSIFIED, "media-classified")
    async def on_media_classified(event: MediaClassified) -> None:
        await retry_while_down(handlers.media_classified(deps, event))

    @subscribe(CONSENT, "consent")
    async def on_consent_changed(event: ConsentChanged) -> None:
        await retry_while_down(handlers.consent_changed(deps, event), s3_too=True)

    @subscribe(USER_ACTIONS, "user-actions")
    async def on_user_action(event: UserAction) -> None:
        await retry_while_down(handlers.user_action(deps, event), s3_too=True)

    @subscribe(MEDIA_ERASED, "media-erased")
    async def on_media_erased(event: MediaErased) -> None:
        await retry_while_down(handlers.media_erased(deps, event), s3_too=True)

    return subscribers
