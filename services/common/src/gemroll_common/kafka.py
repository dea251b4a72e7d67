"""Kafka wiring: the FastStream broker, typed publishing, and dead-lettering of bad records."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512, BaseSecurity
from gemroll_contracts import DEAD_LETTERS, DeadLetter, DeadLetterData, Event, Service, Topic, utcnow
from prometheus_client import Counter
from pydantic import ValidationError

from .logging import get_logger
from .settings import KafkaSettings

log = get_logger(__name__)

DEAD_LETTERS_TOTAL = Counter(
    "gemroll_dead_letters_total",
    "Records sent to the dead-letter topic.",
    ["service", "source_topic", "error_type"],
)
EVENTS_PUBLISHED_TOTAL = Counter(
    "gemroll_events_published_total", "Events published.", ["service", "topic", "event_type"]
)


class PoisonMessage(Exception):
    """The record can never be processed (bad shape, bad content): dead-letter it at once."""


class TransientError(Exception):
    """A dependency is down: retry the same record until it works (never dead-letter)."""


def topic_name(topic: Topic, settings: KafkaSettings) -> str:
    return f"{topic.name}{settings.topic_suffix}"


def _ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    return create_ssl_context(
        cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
    )


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """TLS, mTLS (client cert) and SASL/SCRAM as configured; None for plaintext dev clusters."""
    proto = settings.security_protocol
    if proto == "PLAINTEXT":
        return None
    use_ssl = proto.endswith("SSL")
    ctx = _ssl_context(settings) if use_ssl else None
    if proto == "SSL":
        return BaseSecurity(ssl_context=ctx, use_ssl=True)
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
    user = settings.sasl_username or ""
    cls = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256,
           "PLAIN": SASLPlaintext}[settings.sasl_mechanism]
    return cls(username=user, password=password, ssl_context=ctx, use_ssl=use_ssl)


def make_broker(
    settings: KafkaSettings,
    service: Service | str,
    *,
    middlewares: tuple[Any, ...] = (),
    **kwargs: Any,
) -> KafkaBroker:
    return KafkaBroker(
        settings.bootstrap_servers,
        security=broker_security(settings),
        client_id=f"gemroll-{service}",
        middlewares=middlewares,
        enable_idempotence=True,
        acks="all",
        **kwargs,
    )


class EventPublisher:
    """Publishes contract events to registry topics, keyed by user key.

    Refuses topics the service may not write (see `Topic.writers`): the training topics are
    the policy service's alone.
    """

    def __init__(self, broker: KafkaBroker, settings: KafkaSettings, service: Service) -> None:
        self._broker = broker
        self._settings = settings
        self._service = service

    async def publish(self, topic: Topic, event: Event, *, key: str) -> None:
        if self._service not in topic.writers:
            raise PermissionError(f"{self._service} may not write {topic.name}")
        if not topic.accepts(event):
            raise TypeError(f"{type(event).__name__} does not belong on {topic.name}")
        await self._broker.publish(
            event.to_json(),
            topic=topic_name(topic, self._settings),
            key=key.encode(),
            headers={"event_type": event.event_type, "content-type": "application/json"},
        )
        EVENTS_PUBLISHED_TOTAL.labels(self._service, topic.name, event.event_type).inc()


def dead_letter_for(
    record: Any, *, group: str, error: BaseException, attempts: int
) -> DeadLetter:
    """Build the dead-letter event for an aiokafka ConsumerRecord."""
    message = str(error) or type(error).__name__
    return DeadLetter(
        producer=group.split(".")[0] if "." in group else group,
        data=DeadLetterData(
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            consumer_group=group,
            original_key=record.key,
            original_value=record.value or b"",
            error_type=type(error).__name__,
            error=message[:4000],
            attempts=attempts,
            failed_at=utcnow(),
        ),
    )


def dead_letter_middleware(
    *,
    service: Service,
    group: str,
    settings: KafkaSettings,
    max_attempts: int = 5,
    base_backoff_s: float = 0.2,
    max_backoff_s: float = 10.0,
) -> type[BaseMiddleware]:
    """A consumer never stops on one bad message.

    * invalid JSON / contract violations / `PoisonMessage`: dead-lettered at once, then committed;
    * `TransientError`: retried with capped backoff until it succeeds (fail closed, keep order);
    * anything else: retried `max_attempts` times with backoff, then dead-lettered.
    """

    async def send_dead_letter(broker: KafkaBroker, record: Any, exc: BaseException, n: int) -> None:
        letter = dead_letter_for(record, group=group, error=exc, attempts=n)
        await broker.publish(
            letter.to_json(),
            topic=topic_name(DEAD_LETTERS, settings),
            key=record.key,
            headers={"event_type": letter.event_type},
        )
        DEAD_LETTERS_TOTAL.labels(service, record.topic.removesuffix(settings.topic_suffix) or
                                  record.topic, type(exc).__name__).inc()
        log.warning("dead_lettered", topic=record.topic, partition=record.partition,
                    offset=record.offset, error_type=type(exc).__name__, error=str(exc)[:500])

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[Any], Awaitable[Any]], msg: Any
        ) -> Any:
            record = msg.raw_message
            broker = self.context.get("broker")
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await call_next(msg)
                except (ValidationError, json.JSONDecodeError, UnicodeDecodeError,
                        PoisonMessage) as exc:
                    await send_dead_letter(broker, record, exc, attempt)
                    return None
                except TransientError as exc:
                    delay = min(max_backoff_s, base_backoff_s * 2 ** min(attempt, 10))
                    log.warning("transient_failure_retrying", topic=record.topic,
                                offset=record.offset, error=str(exc)[:300], retry_in_s=delay)
                    await asyncio.sleep(delay)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - bounded retries, then dead letter
                    if attempt >= max_attempts:
                        await send_dead_letter(broker, record, exc, attempt)
                        return None
                    delay = min(max_backoff_s, base_backoff_s * 2 ** attempt)
                    log.warning("processing_failed_retrying", topic=record.topic,
                                offset=record.offset, attempt=attempt, error_type=type(exc).__name__,
                                retry_in_s=delay)
                    await asyncio.sleep(delay)

    return DeadLetterMiddleware
