"""The batch runner: bad records are dead-lettered one by one, the rest goes on."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from gemroll_classifier.consumers import BatchRunner, is_transient
from gemroll_classifier.handlers import Classified, Failed
from gemroll_classifier.ports import ObjectMissing
from gemroll_common.kafka import TransientError
from gemroll_common.settings import KafkaSettings
from gemroll_contracts import DEAD_LETTERS, MediaUploaded, MediaUploadedData

USER = "cd" * 16


def upload() -> MediaUploaded:
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=USER, bucket="gemroll-media", object_key="k",
        content_type="image/jpeg", size_bytes=1, sha256="0" * 64, width=1, height=1))


def record(value: bytes, offset: int) -> SimpleNamespace:
    return SimpleNamespace(value=value, key=USER.encode(), topic="gemroll.media.uploaded.v1",
                           partition=0, offset=offset)


class Publisher:
    def __init__(self) -> None:
        self.sent: list = []

    async def publish(self, topic, event, *, key):  # noqa: ANN001, ANN201
        self.sent.append((topic, event, key))


class Classify:
    """Fails any batch containing `poison`; reports `missing` as a failed fetch."""

    def __init__(self, poison=None, missing=None, transient_failures: int = 0) -> None:  # noqa: ANN001
        self.poison, self.missing = poison, missing
        self.transient_failures = transient_failures
        self.calls: list[int] = []

    async def classify(self, events):  # noqa: ANN001, ANN201
        self.calls.append(len(events))
        if self.transient_failures:
            self.transient_failures -= 1
            raise TransientError("database down")
        if any(e.event_id == getattr(self.poison, "event_id", None) for e in events):
            raise ValueError("a bug this event triggers")
        return {e.event_id: Failed(ObjectMissing("gone"), 5)
                if e.event_id == getattr(self.missing, "event_id", None)
                else Classified(event=None, candidate=None) for e in events}


def runner(classify: Classify, publisher: Publisher) -> BatchRunner:
    return BatchRunner(classify, publisher, group="classifier", kafka=KafkaSettings(),
                       max_attempts=2, base_backoff_s=0.001)


async def test_invalid_records_and_poison_events_are_dead_lettered_alone():
    good, poison, missing = upload(), upload(), upload()
    classify, publisher = Classify(poison=poison, missing=missing), Publisher()
    records = [record(good.to_json(), 0), record(b"{not json", 1), record(poison.to_json(), 2),
               record(missing.to_json(), 3)]
    await runner(classify, publisher).run(records)
    letters = {e.data.source_offset: e.data for topic, e, _ in publisher.sent
               if topic is DEAD_LETTERS}
    assert set(letters) == {1, 2, 3}
    assert letters[1].error_type == "ValidationError"
    assert letters[2].error_type == "ValueError" and letters[2].attempts == 2
    assert letters[3].error_type == "ObjectMissing" and letters[3].attempts == 5
    assert classify.calls == [3, 3, 1, 1, 1, 1]  # batch twice, then one by one


async def test_transient_failures_are_retried_until_they_pass():
    classify, publisher = Classify(transient_failures=3), Publisher()
    await runner(classify, publisher).run([record(upload().to_json(), 0)])
    assert classify.calls == [1, 1, 1, 1] and publisher.sent == []


def test_transient_classification():
    assert is_transient(TransientError("x")) and is_transient(ConnectionRefusedError())
    assert not is_transient(ValueError("bug"))
