"""The one consumer runner: subscribe to a registry topic in the registry's consumer group,
decode the contract event, call the handler, commit; a consumer never stops on one record.

What happens to a record whose handling fails is decided in one place (`FailurePolicy`):

* not a valid event of the topic (bad JSON, contract violation, wrong event type) or a
  `PoisonMessage` from the handler: dead-lettered at once, with the reason;
* a transient failure (`errors.is_transient`: PostgreSQL, Kafka or S3 down or busy): retried
  with the one backoff, for as long as it takes (nothing is committed meanwhile: fail closed);
* a Kafka producer out of step for good (`errors.breaks_the_producer`, after a long outage):
  retried too, and after a few in a row the process asks to be restarted (a new producer);
* anything else: retried `max_attempts` times, then dead-lettered.

Should dead-lettering itself fail (Kafka down), the record is not committed and comes again.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from gemroll_contracts import DEAD_LETTERS, Event, Service, Topic, parse_event, subscription
from pydantic import ValidationError

from .errors import PoisonMessage, breaks_the_producer, is_transient
from .http import subscribers_assigned
from .kafka import DEAD_LETTERS_TOTAL, EventPublisher, dead_letter_for, topic_name
from .logging import get_logger
from .metrics import EVENTS_CONSUMED, PROCESSING_SECONDS, watch_consumer_lag
from .process import BrokenProducerWatch
from .retry import Backoff
from .settings import KafkaSettings

log = get_logger(__name__)

DECODE_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError, json.JSONDecodeError, UnicodeDecodeError, PoisonMessage)

Handler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Failure:
    """A batch handler's report that one event failed for good."""

    error: BaseException
    attempts: int = 1


@dataclass(frozen=True)
class Skipped:
    """A batch handler's report that one event was done with without work (the classifier's
    erased media): counted under `outcome` instead of "ok"."""

    outcome: str


BatchHandler = Callable[[list[Any]], Awaitable[Mapping[UUID, Failure | Skipped]]]
"""Handles a batch of events; returns the events that failed for good (to dead-letter) and
those it skipped."""


def decode(topic: Topic, value: bytes | None) -> Event:
    """The record's contract event; raises one of DECODE_ERRORS when it is not one of the
    topic's events."""
    event = parse_event(value or b"")
    if not topic.accepts(event):
        raise PoisonMessage(f"{event.event_type} does not belong on {topic.name}")
    return event


@dataclass(frozen=True)
class FailurePolicy:
    max_attempts: int = 5
    """Attempts for a failure that is neither poison nor transient."""
    backoff: Backoff = Backoff(0.2, 10.0)

    def gives_up(self, error: BaseException, attempt: int) -> bool:
        """True: dead-letter now; False: wait `backoff.delay(attempt)` and try again."""
        if isinstance(error, DECODE_ERRORS):
            return True
        if is_transient(error) or breaks_the_producer(error):  # the record is not to blame
            return False
        return attempt >= self.max_attempts


class Consumers:
    """A service's subscriptions, all run through the same failure policy."""

    def __init__(self, broker: KafkaBroker, kafka: KafkaSettings, service: Service, *,
                 publisher: EventPublisher | None = None,
                 policy: FailurePolicy = FailurePolicy()) -> None:
        self._broker = broker
        self._kafka = kafka
        self.service = service
        self._publisher = publisher or EventPublisher(broker, kafka, service)
        self.policy = policy
        self._producer = BrokenProducerWatch(f"{service.value} consumers")
        self.subscribers: list[Any] = []

    def group(self, topic: Topic) -> str:
        """The registry's consumer group for this service and topic (plus the test suffix)."""
        return subscription(self.service, topic).group + self._kafka.topic_suffix

    # -- subscribing ------------------------------------------------------------------------
    def subscribe(self, topic: Topic, handler: Handler) -> Any:
        """Call `handler(event)` for each record of `topic`, in order per partition."""
        group = self.group(topic)
        subscriber = self._broker.subscriber(
            topic_name(topic, self._kafka), group_id=group, auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR, decoder=_raw_value)

        @subscriber
        async def consume(value: Any, message: KafkaMessage) -> None:
            await self.process(topic, group, message.raw_message, handler)

        self.subscribers.append(subscriber)
        return subscriber

    def subscribe_batch(self, topic: Topic, handler: BatchHandler, *, max_records: int,
                        timeout_ms: int, **options: Any) -> Any:
        """Call `handler(events)` with up to `max_records` events at a time."""
        group = self.group(topic)
        subscriber = self._broker.subscriber(
            topic_name(topic, self._kafka), batch=True, max_records=max_records,
            batch_timeout_ms=timeout_ms, group_id=group, auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR, decoder=_raw_values, **options)

        @subscriber
        async def consume(values: Any, message: KafkaMessage) -> None:
            await self.process_batch(topic, group, message.raw_message, handler)

        self.subscribers.append(subscriber)
        return subscriber

    async def ready(self) -> bool:
        """Every subscription has partitions assigned."""
        return await subscribers_assigned(self.subscribers)()

    async def watch_lag(self) -> None:
        await watch_consumer_lag(self.service.value, self.subscribers)

    # -- running ----------------------------------------------------------------------------
    async def process(self, topic: Topic, group: str, record: Any, handler: Handler) -> None:
        try:
            event = decode(topic, record.value)
        except DECODE_ERRORS as exc:
            await self.dead_letter(topic, group, record, exc, 1)
            return
        with PROCESSING_SECONDS.labels(self.service, topic.name).time():
            outcome = await self._attempt(topic, [event], lambda: handler(event))
        if isinstance(outcome, Failure):
            await self.dead_letter(topic, group, record, outcome.error, outcome.attempts)
        else:
            EVENTS_CONSUMED.labels(self.service, topic.name, "ok").inc()

    async def process_batch(self, topic: Topic, group: str, records: Sequence[Any],
                            handler: BatchHandler) -> None:
        pairs: list[tuple[Any, Event]] = []
        for record in records:
            try:
                pairs.append((record, decode(topic, record.value)))
            except DECODE_ERRORS as exc:
                await self.dead_letter(topic, group, record, exc, 1)
        if not pairs:
            return
        with PROCESSING_SECONDS.labels(self.service, topic.name).time():
            events = [e for _, e in pairs]
            failures = await self._attempt(topic, events, lambda: handler(events))
            if isinstance(failures, Failure):  # the batch keeps failing: isolate the culprit
                failures = {}
                for _, event in pairs:
                    single = await self._attempt(topic, [event], lambda e=event: handler([e]))
                    failures.update({event.event_id: single} if isinstance(single, Failure)
                                    else single or {})
        for record, event in pairs:
            failure = (failures or {}).get(event.event_id)
            if isinstance(failure, Failure):
                await self.dead_letter(topic, group, record, failure.error, failure.attempts)
            else:
                outcome = failure.outcome if isinstance(failure, Skipped) else "ok"
                EVENTS_CONSUMED.labels(self.service, topic.name, outcome).inc()

    async def _attempt(self, topic: Topic, events: Sequence[Event],
                       work: Callable[[], Awaitable[Any]]) -> Any:
        """`work()`'s result, or a Failure once the policy gives up."""
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await work()
            except Exception as exc:  # noqa: BLE001 - the policy decides
                self._producer.saw(exc)  # a producer out of step: a fresh process takes over
                if self.policy.gives_up(exc, attempt):
                    return Failure(exc, attempt)
                delay = self.policy.backoff.delay(attempt)
                EVENTS_CONSUMED.labels(self.service, topic.name, "retried").inc(len(events))
                log.warning("processing_retrying", topic=topic.name, events=len(events),
                            attempt=attempt, transient=is_transient(exc),
                            error_type=type(exc).__name__, error=str(exc)[:300],
                            retry_in_s=round(delay, 3))
                await self.policy.backoff.wait(attempt)
            else:
                self._producer.saw(None)
                return result

    async def dead_letter(self, topic: Topic, group: str, record: Any, error: BaseException,
                          attempts: int) -> None:
        letter = dead_letter_for(record, group=group, error=error, attempts=attempts)
        key = (record.key or b"").decode("utf-8", "replace")
        await self._publisher.publish(DEAD_LETTERS, letter, key=key)
        DEAD_LETTERS_TOTAL.labels(self.service, topic.name, type(error).__name__).inc()
        EVENTS_CONSUMED.labels(self.service, topic.name, "dead_lettered").inc()
        log.warning("dead_lettered", topic=topic.name, partition=record.partition,
                    offset=record.offset, error_type=type(error).__name__,
                    error=str(error)[:500])


async def _raw_value(msg: Any) -> bytes:
    """Keep the record's bytes: the runner decodes (and dead-letters) itself."""
    return msg.raw_message.value or b""


async def _raw_values(msg: Any) -> list[bytes]:
    return [r.value or b"" for r in msg.raw_message]


__all__ = ["BatchHandler", "Consumers", "DECODE_ERRORS", "Failure", "FailurePolicy", "Handler",
           "Skipped", "decode"]
