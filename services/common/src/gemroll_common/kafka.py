"""Kafka wiring: the FastStream broker, typed publishing and dead-letter records."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import murmur2
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from gemroll_contracts import DeadLetter, DeadLetterData, Event, Service, Topic, utcnow
from prometheus_client import Counter

from .errors import PoisonMessage, TransientError
from .logging import get_logger
from .retry import Backoff
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


def topic_name(topic: Topic, settings: KafkaSettings) -> str:
    return f"{topic.name}{settings.topic_suffix}"


def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as in the Java client and
    aiokafka) gives `key` on a topic of `partitions` partitions."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def aiokafka_client_kwargs(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Connection options of a plain aiokafka client, configured like the FastStream broker
    (TLS, mTLS, SASL/SCRAM as set)."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "client_id": client_id,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = _ssl_context(settings)
    if settings.security_protocol.startswith("SASL"):
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = (settings.sasl_password.get_secret_value()
                                         if settings.sasl_password else None)
    return kwargs


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


CONNECT_BACKOFF = Backoff(0.5, 30.0)


async def start_when_reachable(broker: KafkaBroker, backoff: Backoff = CONNECT_BACKOFF) -> None:
    """Start the broker, retrying with backoff while Kafka is unreachable (a service that can
    work without Kafka, e.g. ingest whose events wait in the outbox, starts meanwhile)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await broker.start()
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, timed out
            with contextlib.suppress(Exception):  # a half-started broker may not stop cleanly
                await broker.stop()
            delay = backoff.delay(attempt)
            log.warning("kafka_unavailable", error_type=type(exc).__name__,
                        error=str(exc)[:300], retry_in_s=delay, attempt=attempt)
            await asyncio.sleep(delay)
            continue
        if attempt > 1:
            log.info("kafka_connected", after_attempts=attempt)
        return


__all__ = ["DEAD_LETTERS_TOTAL", "EventPublisher", "PoisonMessage", "TransientError",
           "broker_security", "dead_letter_for", "make_broker", "start_when_reachable",
           "topic_name"]
