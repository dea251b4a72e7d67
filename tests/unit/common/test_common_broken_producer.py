"""A Kafka producer out of step for good (aiokafka#1017, after a long outage) is never the
record's fault: the consumer runner retries instead of dead-lettering, and after a few in a
row asks for a fresh process, as the outbox relay does."""

from __future__ import annotations

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from gemroll_common import process
from gemroll_common.consumer import Consumers, Failure, FailurePolicy
from gemroll_common.kafka import make_broker
from gemroll_common.process import BrokenProducerWatch
from gemroll_common.retry import Backoff
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import MEDIA_UPLOADED, Service


@pytest.fixture
def restarts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(process, "request_restart", asked.append)
    return asked


def test_the_watch_asks_once_they_keep_coming_and_forgets_after_a_success(restarts):
    watch = BrokenProducerWatch("test", attempts=3)
    assert watch.saw(ValueError("a bug")) is False
    for _ in range(2):
        assert watch.saw(OutOfOrderSequenceNumber()) is True
    watch.saw(None)  # it worked once: start counting again
    for _ in range(2):
        watch.saw(OutOfOrderSequenceNumber())
    assert restarts == []
    wrapped = RuntimeError("publishing failed")
    wrapped.__cause__ = OutOfOrderSequenceNumber()
    watch.saw(wrapped)
    assert restarts == ["test: producer out of step: RuntimeError"]


async def test_the_runner_retries_a_broken_producer_and_never_dead_letters_for_it(restarts):
    kafka = KafkaSettings()
    consumers = Consumers(make_broker(kafka, Service.classifier), kafka, Service.classifier,
                          policy=FailurePolicy(max_attempts=2, backoff=Backoff(0.001, 0.002)))
    calls = []

    async def handler() -> str:
        calls.append(1)
        if len(calls) <= 6:  # more than max_attempts: a bug would be dead-lettered by now
            raise OutOfOrderSequenceNumber()
        return "done"

    assert await consumers._attempt(MEDIA_UPLOADED, [], handler) == "done"  # noqa: SLF001
    assert len(calls) == 7 and len(restarts) == 2  # asked after the 3rd and the 6th

    async def bug() -> None:
        raise ValueError("a bug")

    failed = await consumers._attempt(MEDIA_UPLOADED, [], bug)  # noqa: SLF001
    assert isinstance(failed, Failure) and failed.attempts == 2
