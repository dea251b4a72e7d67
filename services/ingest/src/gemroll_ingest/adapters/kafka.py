"""Kafka: the outbox publisher, the consumed topics (consent, erasure, classification) and a
connection loop that keeps trying while Kafka is unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from gemroll_common.errors import is_transient
from gemroll_common.kafka import (
    EventPublisher,
    TransientError,
    dead_letter_middleware,
    make_broker,
    topic_name,
)
from gemroll_common.logging import get_logger
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import (
    CONSENT,
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    ConsentChanged,
    MediaClassified,
    MediaErased,
    Service,
    Topic,
    parse_event,
    topic_named,
)

from ..domain.errors import StorageUnavailable
from ..handlers import Ingest
from ..ports import PendingMessage

log = get_logger(__name__)

E = TypeVar("E")

def is_infrastructure_error(exc: BaseException) -> bool:
    """A dependency is down: the record is retried until it works, never dead-lettered.
    The shared classification, plus the object store refusing (StorageUnavailable): an
    erasure must never be dead-lettered half done."""
    return isinstance(exc, StorageUnavailable) or is_transient(exc)


class KafkaOutboxPublisher:
    """RawPublisher: re-validates the stored event against its contract, then publishes it
    through the shared EventPublisher (which enforces the topic's writers)."""

    def __init__(self, broker: KafkaBroker, settings: KafkaSettings, timeout_s: float) -> None:
        self._events = EventPublisher(broker, settings, Service.ingest)
        self._timeout_s = timeout_s

    async def publish(self, message: PendingMessage) -> None:
        event = parse_event(message.payload)
        await asyncio.wait_for(
            self._events.publish(topic_named(message.topic), event, key=message.key),
            self._timeout_s,
        )


def _transient(handle: Callable[[E], Awaitable[Any]]) -> Callable[[E], Awaitable[None]]:
    async def run(event: E) -> None:
        try:
            await handle(event)
        except TransientError:
            raise
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
            raise

    return run


def build_broker(settings: KafkaSettings, ingest: Ingest) -> tuple[KafkaBroker, list[Any]]:
    """The broker (publishing and consuming) and its subscribers (for readiness)."""
    broker = make_broker(settings, Service.ingest)
    on_consent = _transient(ingest.consent_changed)
    on_erased = _transient(ingest.erase)
    on_classified = _transient(ingest.record_classified)

    async def consent_changed(event: ConsentChanged) -> None:
        await on_consent(event)

    async def media_erased(event: MediaErased) -> None:
        await on_erased(event)

    async def media_classified(event: MediaClassified) -> None:
        await on_classified(event)

    subscriptions: list[tuple[Topic, str, Callable[..., Awaitable[None]]]] = [
        (CONSENT, "ingest.consent", consent_changed),
        (MEDIA_ERASED, "ingest.erasure", media_erased),
        (MEDIA_CLASSIFIED, "ingest.pipeline-status", media_classified),
    ]
    subscribers = []
    for topic, group_name, handler in subscriptions:
        group = f"{group_name}{settings.topic_suffix}"
        router = KafkaRouter(middlewares=(
            dead_letter_middleware(service=Service.ingest, group=group, settings=settings),
        ))
        subscriber = router.subscriber(
            topic_name(topic, settings), group_id=group, auto_offset_reset="earliest",
            ack_policy=AckPolicy.ACK,
        )
        subscriber(handler)
        broker.include_router(router)
        subscribers.append(subscriber)
    return broker, subscribers


async def keep_connecting(broker: KafkaBroker, max_backoff_s: float = 30.0) -> None:
    """Start the broker, retrying with backoff while Kafka is unreachable. Uploads go on
    meanwhile (their events wait in the outbox)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await broker.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            try:
                await broker.stop()
            except Exception:  # noqa: BLE001, S110 - a half-started broker may not stop cleanly
                pass
            delay = min(max_backoff_s, 0.5 * 2 ** min(attempt, 10))
            log.warning("kafka_unavailable", error_type=type(exc).__name__,
                        error=str(exc)[:300], retry_in_s=delay, attempt=attempt)
            await asyncio.sleep(delay)
            continue
        if attempt > 1:
            log.info("kafka_connected", after_attempts=attempt)
        return
