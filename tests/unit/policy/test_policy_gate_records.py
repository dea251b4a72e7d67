"""The gate's records with in-memory adapters: decoded like every consumer's, dead-lettered
with the runner's policy, a failing batch taken apart (domain.batches)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord
from gemroll_common.consumer import FailurePolicy
from gemroll_common.errors import PoisonMessage
from gemroll_common.retry import Backoff
from gemroll_contracts import (
    DEAD_LETTERS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    USER_ACTIONS,
    DeadLetter,
    Event,
    Topic,
)
from gemroll_policy.adapters.gate_records import GateRecords
from gemroll_policy.adapters.memory import InMemoryObjects, InMemoryPolicyStore
from gemroll_policy.domain import Pseudonymizer
from gemroll_policy.usecases import GateHandler
from gemroll_testkit.events import action, candidate, user_key

SUFFIX = ".unit"
TOPICS = {t.name + SUFFIX: t for t in (TRAINING_CANDIDATES, USER_ACTIONS)}
GROUP = "policy.gate" + SUFFIX
offsets = itertools.count()


class FailingStore(InMemoryPolicyStore):
    """Loading a batch that names one of `failing` users raises `error`."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        super().__init__(pseudonyms)
        self.failing: set[str] = set()
        self.error: type[Exception] = RuntimeError
        self.loads = 0

    def unit_of_work(self):  # type: ignore[no-untyped-def]
        outer, store = super().unit_of_work(), self

        class Failing:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                uow = await outer.__aenter__()
                load = uow.load

                async def failing_load(request):  # type: ignore[no-untyped-def]
                    store.loads += 1
                    if store.failing & request.users:
                        raise store.error("cannot process this one")
                    return await load(request)

                uow.load = failing_load
                return uow

            async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
                return await outer.__aexit__(*exc)

        return Failing()


@pytest.fixture
def store() -> FailingStore:
    return FailingStore(Pseudonymizer("unit-test-pseudonym-secret"))


@pytest.fixture
def records(store) -> GateRecords:
    gate = GateHandler(store, store.pseudonyms, retention_days=30,
                       clock=lambda: datetime.now(UTC), objects=InMemoryObjects())
    return GateRecords(gate, TOPICS, GROUP, FailurePolicy(3, Backoff(0.001, 0.001)))


def record(topic: Topic, event: Event | bytes | None, key: str = "k") -> ConsumerRecord:
    value = event.to_json() if isinstance(event, Event) else event
    return ConsumerRecord(topic.name + SUFFIX, 0, next(offsets), 0, 0, key.encode(), value,
                          None, 1, len(value or b""), [])


def letters(store: InMemoryPolicyStore) -> list[DeadLetter]:
    return [DeadLetter.from_json(m.payload) for m in store.messages(DEAD_LETTERS.name)]


def rejected(store: InMemoryPolicyStore) -> int:
    return len(store.messages(TRAINING_DECISIONS.name))


async def test_invalid_and_forged_records_are_dead_lettered_at_once_with_the_batch(
        records, store):
    user = user_key("records-a")
    forged = candidate(user, uuid.uuid4(), object_key=f"users/{user_key('b')}/media/x")
    await records.apply([
        record(TRAINING_CANDIDATES, b'{"event_type": "nope"}'),
        record(TRAINING_CANDIDATES, action(user, uuid.uuid4(), "shared")),  # wrong topic
        record(TRAINING_CANDIDATES, forged),
        record(TRAINING_CANDIDATES, None),  # a compaction tombstone: nothing to decide
        record(TRAINING_CANDIDATES, candidate(user, uuid.uuid4()))])
    assert [(lt.data.error_type, lt.data.attempts, lt.data.consumer_group)
            for lt in letters(store)] == [("ValidationError", 1, GROUP),
                                         ("PoisonMessage", 1, GROUP),
                                         ("ForgedEvent", 1, GROUP)]
    assert rejected(store) == 1  # the valid candidate: not opted in
    assert store.loads == 1  # one unit of work for all of it


async def test_a_record_that_cannot_be_processed_is_isolated_retried_and_dead_lettered(
        records, store):
    good, bad = user_key("records-good"), user_key("records-bad")
    store.failing = {bad}
    await records.apply([record(TRAINING_CANDIDATES, candidate(good, uuid.uuid4())),
                         record(TRAINING_CANDIDATES, candidate(bad, uuid.uuid4()), key=bad),
                         record(TRAINING_CANDIDATES, candidate(good, uuid.uuid4()))])
    [letter] = letters(store)
    assert (letter.data.error_type, letter.data.attempts) == ("RuntimeError", 3)
    assert letter.data.original_key == bad.encode()
    assert [m.key for m in store.messages(DEAD_LETTERS.name)] == [bad]
    assert rejected(store) == 2  # the others are decided
    # the batch, then each alone: the bad one 3 times, then its dead letter on its own
    assert store.loads == 1 + 1 + 3 + 1 + 1


async def test_a_poison_record_is_dead_lettered_without_retries(records, store):
    bad = user_key("records-poison")
    store.failing, store.error = {bad}, PoisonMessage
    await records.apply([record(TRAINING_CANDIDATES, candidate(bad, uuid.uuid4()))])
    assert [(lt.data.error_type, lt.data.attempts) for lt in letters(store)] == [
        ("PoisonMessage", 1)]


async def test_a_transient_failure_decides_nothing_and_is_left_to_the_caller(records, store):
    down = user_key("records-down")
    store.failing, store.error = {down}, ConnectionRefusedError
    batch = [record(TRAINING_CANDIDATES, candidate(user_key("x"), uuid.uuid4())),
             record(TRAINING_CANDIDATES, candidate(down, uuid.uuid4()))]
    with pytest.raises(ConnectionRefusedError):
        await records.apply(batch)
    assert store.loads == 1 and store.outbox == []  # not taken apart, nothing written
    store.failing = set()
    await records.apply(batch)
    assert rejected(store) == 2 and letters(store) == []
