"""The classifier's subscriptions on the kit's runner: a batch's outcomes become the runner's
report (missing objects dead-lettered, erased media counted apart), bad records are
dead-lettered alone, outages are retried; erasures wait out outages too."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from gemroll_classifier.consumers import MAX_PARTITION_FETCH_BYTES, report, subscribe
from gemroll_classifier.usecases.outcomes import Classified, Erased
from gemroll_common.consumer import Consumers, Failure, FailurePolicy, Skipped
from gemroll_common.errors import ObjectMissing
from gemroll_common.retry import Backoff
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import (
    ErasureReason,
    MediaErased,
    MediaErasedData,
    Service,
    utcnow,
)
from gemroll_testkit.faults import TRANSIENT_ERRORS
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).parent))
from classifier_fakes import FakeBroker, FakePublisher, record  # noqa: E402
from test_classifier_handlers import USER, upload  # noqa: E402

UPLOADS, ERASURES = "gemroll.media.uploaded.v1.tc", "gemroll.media.erased.v1.tc"


def erasure() -> MediaErased:
    return MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[uuid.uuid4()], reason=ErasureReason.media_deleted,
        erased_at=utcnow()))


class Classify:
    """Fails any batch holding `poison`, reports `missing` as failed and `erased` as erased;
    the first `outage` calls raise `error`."""

    def __init__(self, poison=None, missing=None, erased=None, outage: int = 0,  # noqa: ANN001
                 error=lambda: ConnectionRefusedError(111, "refused")) -> None:  # noqa: ANN001
        self.poison, self.missing, self.erased = poison, missing, erased
        self.outage, self.error = outage, error
        self.calls: list[int] = []

    async def classify(self, events):  # noqa: ANN001, ANN201
        self.calls.append(len(events))
        if self.outage:
            self.outage -= 1
            raise self.error()
        if any(e.event_id == getattr(self.poison, "event_id", None) for e in events):
            raise ValueError("a bug this event triggers")

        def outcome(e):  # noqa: ANN001, ANN202
            if e.event_id == getattr(self.missing, "event_id", None):
                return Failure(ObjectMissing("gone"), 5)
            if e.event_id == getattr(self.erased, "event_id", None):
                return Erased()
            return Classified(event=None, candidate=None)

        return {e.event_id: outcome(e) for e in events}


class Erase:
    """`erase` raises `error()` the first `failures` times, then succeeds."""

    def __init__(self, failures: int = 0, error=lambda: ValueError("bug")) -> None:  # noqa: ANN001
        self.failures, self.error, self.calls = failures, error, 0

    async def erase(self, event: MediaErased) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error()
        return 1


def wired(classify: Classify, erase: Erase | None = None, *, max_attempts: int = 2):
    broker, publisher = FakeBroker(), FakePublisher()
    consumers = Consumers(broker, KafkaSettings(topic_suffix=".tc"), Service.classifier,
                          publisher=publisher, policy=FailurePolicy(
                              max_attempts=max_attempts, backoff=Backoff(0.0001, 0.0001)))
    subscribe(consumers, classify, erase or Erase(), batch_max=32, batch_timeout_ms=200)
    return broker, publisher


def consumed(outcome: str, topic: str = "gemroll.media.uploaded.v1") -> float:
    return REGISTRY.get_sample_value("gemroll_events_consumed_total", {
        "service": "classifier", "topic": topic, "outcome": outcome}) or 0.0


def test_subscriptions_use_the_registry_groups_and_the_batch_settings():
    broker, _ = wired(Classify())
    uploads, erasures = broker.subscriptions[UPLOADS], broker.subscriptions[ERASURES]
    assert uploads["group_id"] == "classifier.tc" and uploads["batch"] is True
    assert uploads["max_records"] == 32 and uploads["batch_timeout_ms"] == 200
    assert uploads["max_partition_fetch_bytes"] == MAX_PARTITION_FETCH_BYTES
    assert erasures["group_id"] == "classifier.erasure.tc" and not erasures.get("batch")


def test_the_report_dead_letters_failures_and_skips_erased_media():
    failed, erased, ok = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    error = ObjectMissing("gone")
    assert report({failed: Failure(error, 5), erased: Erased(),
                   ok: Classified(event=None, candidate=None)}) == {
        failed: Failure(error, 5), erased: Skipped("erased")}


async def test_invalid_records_and_poison_events_are_dead_lettered_alone():
    good, poison, missing, erased = (upload(f"k{i}") for i in range(4))
    classify = Classify(poison=poison, missing=missing, erased=erased)
    broker, publisher = wired(classify)
    erased_before, ok_before = consumed("erased"), consumed("ok")
    await broker.deliver(UPLOADS, [
        record(good.to_json(), 0), record(b"{not json", 1), record(poison.to_json(), 2),
        record(missing.to_json(), 3), record(erased.to_json(), 4)])
    letters = publisher.letters()
    assert set(letters) == {1, 2, 3}
    assert letters[1].error_type == "ValidationError"
    assert letters[2].error_type == "ValueError" and letters[2].attempts == 2
    assert letters[3].error_type == "ObjectMissing" and letters[3].attempts == 5
    assert letters[3].consumer_group == "classifier.tc"
    assert classify.calls == [4, 4, 1, 1, 1, 1, 1]  # the batch twice, then one by one
    assert consumed("erased") == erased_before + 1 and consumed("ok") == ok_before + 1


@pytest.mark.parametrize("kind", ["pg_admin_shutdown", "connection_refused", "kafka_not_leader",
                                  "s3_slow_down", "store_unavailable"])
async def test_a_batch_is_retried_through_an_outage_and_nothing_is_dead_lettered(kind):
    classify = Classify(outage=30, error=TRANSIENT_ERRORS[kind])
    broker, publisher = wired(classify)
    await broker.deliver(UPLOADS, [record(upload("k").to_json(), 0)])
    assert classify.calls == [1] * 31 and publisher.sent == []


@pytest.mark.parametrize("error", [
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "Connection refused"),
    asyncpg.DeadlockDetectedError("deadlock"),
], ids=lambda e: type(e).__name__)
async def test_erasure_waits_out_a_database_outage(error):
    erase = Erase(failures=30, error=lambda: error)
    broker, publisher = wired(Classify(), erase)
    await broker.deliver(ERASURES, [record(erasure().to_json(), 0, ERASURES)])
    assert erase.calls == 31 and publisher.sent == []


async def test_a_bug_in_erasure_is_dead_lettered_after_the_attempts():
    erase = Erase(failures=100)
    broker, publisher = wired(Classify(), erase, max_attempts=3)
    await broker.deliver(ERASURES, [record(erasure().to_json(), 7, ERASURES)])
    assert erase.calls == 3
    letter = publisher.letters()[7]
    assert letter.error_type == "ValueError" and letter.attempts == 3
    assert letter.consumer_group == "classifier.erasure.tc"
