"""The gate's consumed records: decoded like every consumer's (`gemroll_common.consumer`),
checked for their origin, applied in one unit of work, dead-lettered when they cannot be.

The failure policy is the runner's (`FailurePolicy`): a record that is not an event of its
topic, or a forged one, is dead-lettered at once; a transient failure waits (the caller
applies the whole batch again); anything else is retried, then dead-lettered. How a failing
batch is taken apart is the domain's rule (`domain.batches`). The dead letters are written to
the outbox with the decisions, so they go out in the same Kafka transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiokafka.structs import ConsumerRecord
from gemroll_common.consumer import DECODE_ERRORS, FailurePolicy, decode
from gemroll_common.errors import PoisonMessage, is_transient
from gemroll_common.kafka import DEAD_LETTERS_TOTAL, dead_letter_for
from gemroll_common.logging import get_logger
from gemroll_contracts import ConsentChanged, DeadLetter, Service, Topic

from .. import metrics
from ..domain import AfterFailure, after_failure
from ..domain.origin import ForgedEvent, check_origin
from ..usecases import GateHandler, GateInput

log = get_logger(__name__)
SERVICE = Service.policy.value


class GateRecords:
    def __init__(self, handler: GateHandler, topics: Mapping[str, Topic], group: str,
                 policy: FailurePolicy) -> None:
        self.handler = handler
        self.topics = topics
        """The topics consumed, by their name on the broker (with the suffix)."""
        self.group = group
        self.policy = policy

    async def apply(self, records: Sequence[ConsumerRecord]) -> None:
        """Decide the records; one that cannot be processed is dead-lettered. Raises when a
        dependency is down: then nothing was decided, and the batch is to be applied again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._handle(records)
                return
            except Exception as exc:
                step = after_failure(
                    transient=is_transient(exc), final=isinstance(exc, PoisonMessage),
                    records=len(records), attempt=attempt,
                    max_attempts=self.policy.max_attempts)
                if step is AfterFailure.wait:
                    raise
                if step is AfterFailure.isolate:
                    log.warning("gate_batch_failed_isolating", records=len(records),
                                error_type=type(exc).__name__, error=str(exc)[:300])
                    metrics.GATE_FAILURES.labels("batch").inc()
                    for record in records:
                        await self.apply([record])
                    return
                if step is AfterFailure.dead_letter:
                    await self._give_up(records[0], exc, attempt)
                    return
                log.warning("gate_record_retrying", attempt=attempt,
                            error_type=type(exc).__name__, error=str(exc)[:300])
                await self.policy.backoff.wait(attempt)

    async def _handle(self, records: Sequence[ConsumerRecord]) -> None:
        events: list[GateInput] = []
        letters: list[DeadLetter] = []
        for record in records:
            parsed = self.parse(record)
            if isinstance(parsed, DeadLetter):
                letters.append(parsed)
            elif parsed is not None:
                events.append(parsed)
        if events or letters:
            await self.handler.handle(events, letters)
            self._counted(letters)

    def parse(self, record: ConsumerRecord) -> GateInput | DeadLetter | None:
        """The record's event, or its dead letter; None for a compaction tombstone."""
        if record.value is None:
            return None  # nothing to decide
        topic = self.topics[record.topic]
        try:
            event = decode(topic, record.value)
            if not isinstance(event, ConsentChanged):  # the policy's own topic
                check_origin(event, self.handler.objects.bucket)  # type: ignore[arg-type]
            return event  # type: ignore[return-value]
        except ForgedEvent as exc:
            metrics.FORGED_EVENTS.labels(topic.name).inc()
            log.error("gate_record_forged", topic=record.topic, offset=record.offset,
                      error=str(exc)[:300])
            return dead_letter_for(record, group=self.group, error=exc, attempts=1)
        except DECODE_ERRORS as exc:
            log.warning("gate_record_invalid", topic=record.topic, offset=record.offset,
                        error=str(exc)[:300])
            return dead_letter_for(record, group=self.group, error=exc, attempts=1)

    async def _give_up(self, record: ConsumerRecord, error: BaseException,
                       attempts: int) -> None:
        letter = dead_letter_for(record, group=self.group, error=error, attempts=attempts)
        await self.handler.handle([], [letter])
        self._counted([letter])
        log.error("gate_record_dead_lettered", topic=record.topic, offset=record.offset,
                  attempts=attempts, error_type=type(error).__name__)

    def _counted(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            topic = self.topics[letter.data.source_topic].name
            DEAD_LETTERS_TOTAL.labels(SERVICE, topic, letter.data.error_type).inc()


__all__ = ["GateRecords"]
