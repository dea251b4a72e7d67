"""Every kind of transient failure is retried by the policy gate, never dead-lettered, and the
candidate is then decided exactly once; a failure that is not transient still ends in a
dead letter, and the gate goes on.

One in-process policy service on the real stack (its own topics and schema). Faults are
injected at two ports of the gate:

* its store: loading the batch (inside the real PostgreSQL transaction) fails for one user
  a couple of times, then works. Each failure must be waited out as a dependency being down
  (the whole batch polled again, counted as a failed `decide`), never retried as a failure
  of the record's own (which would end in a dead letter);
* the training copy: reading the source in the kit's object store fails once, under the
  gate's S3 adapter; the admission is held, and made when the copy is tried again.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gemroll_common.consumer import FailurePolicy
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    DEAD_LETTERS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    DeadLetter,
    Event,
    Service,
    subscription,
)
from gemroll_policy import metrics
from gemroll_policy.adapters.postgres import GateUnitOfWork
from gemroll_policy.ports import LoadRequest
from gemroll_testkit import eventually
from gemroll_testkit.events import action, candidate
from gemroll_testkit.faults import TRANSIENT_ERRORS, FailingTimes
from gemroll_testkit.topics import read_records

pytestmark = pytest.mark.integration

MAX_ATTEMPTS = FailurePolicy().max_attempts
"""The gate's attempts at a record that fails for a reason other than a transient one."""
FAILURES = 2
"""How often each fault is raised at the store."""


class Faults:
    """Faults by user key (at the store) and by object key (at the training copy)."""

    def __init__(self) -> None:
        self.users: dict[str, FailingTimes] = {}
        self.objects: dict[str, FailingTimes] = {}

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        load, open_sync = GateUnitOfWork.load, ObjectStore.open_sync

        async def failing_load(uow: GateUnitOfWork, request: LoadRequest) -> Any:
            for user in sorted(request.users):
                if (fault := self.users.get(user)) is not None:
                    fault()
            return await load(uow, request)

        def failing_open(store: ObjectStore, key: str, bucket: str | None = None) -> Any:
            if (fault := self.objects.get(key)) is not None:
                fault()
            return open_sync(store, key, bucket)

        monkeypatch.setattr(GateUnitOfWork, "load", failing_load)
        monkeypatch.setattr(ObjectStore, "open_sync", failing_open)


@pytest.fixture(scope="module")
async def gate(module_policy) -> AsyncIterator[tuple[Any, Faults, httpx.AsyncClient]]:
    policy = module_policy
    faults = Faults()
    settings = policy.settings.model_copy(update={"db_retry_max_s": 0.05})  # short waits
    app = policy.app(settings=settings)
    with pytest.MonkeyPatch.context() as monkeypatch:
        faults.patch(monkeypatch)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield policy, faults, client


async def decisions(policy, topic, candidate_ids: set[str], timeout_s: float = 30.0
                    ) -> Counter[str]:
    """How often each candidate (by its training id) was decided on `topic`, once all are."""
    records = await read_records(
        policy.env.kafka.bootstrap_servers, policy.env.topic(topic), timeout_s=timeout_s,
        until=lambda rs: candidate_ids <= {json.loads(r.value)["data"]["candidate_id"]
                                           for r in rs})
    return Counter(json.loads(r.value)["data"]["candidate_id"] for r in records
                   if json.loads(r.value)["data"]["candidate_id"] in candidate_ids)


async def dead_letters_of(policy, events: list[Event]) -> list[DeadLetter]:
    records = await read_records(policy.env.kafka.bootstrap_servers,
                                 policy.env.topic(DEAD_LETTERS), timeout_s=10)
    ids = [str(e.event_id).encode() for e in events]
    return [letter for letter in (DeadLetter.from_json(r.value) for r in records)
            if any(i in letter.data.original_value for i in ids)]


@pytest.mark.parametrize("kind", sorted(TRANSIENT_ERRORS))
async def test_a_batch_is_retried_through_each_transient_failure_then_decided_once(gate, kind):
    policy, faults, _ = gate
    user = policy.user_key(f"transient-{kind}")
    fault = faults.users[user] = FailingTimes(TRANSIENT_ERRORS[kind], FAILURES)
    waits = metrics.GATE_FAILURES.labels("decide")
    before = waits._value.get()
    proposed = candidate(user, uuid.uuid4())  # no consent on record: rejected
    await policy.produce(TRAINING_CANDIDATES, [proposed])
    training_id = policy.training_id(proposed.data.candidate_id)
    assert await decisions(policy, TRAINING_DECISIONS, {training_id}) == {training_id: 1}
    assert fault.calls == FAILURES + 1  # raised every time, then let through
    assert waits._value.get() - before == FAILURES  # each waited out: the batch polled again
    assert await dead_letters_of(policy, [proposed]) == []


async def test_a_failed_training_copy_is_held_and_made_for_each_transient_failure(gate):
    policy, faults, client = gate
    account = "transient-copies"
    user = policy.user_key(account)
    response = await client.put("/v1/consent", json={"camera_roll": True},
                                headers=policy.headers(account))
    assert response.status_code == 200, response.text
    media = {kind: uuid.uuid4() for kind in TRANSIENT_ERRORS}
    proposed = {kind: candidate(user, m) for kind, m in media.items()}
    await policy.put_sources(list(proposed.values()))
    copy_faults: dict[str, FailingTimes] = {}
    for kind, c in proposed.items():
        copy_faults[kind] = faults.objects[c.data.object_key] = FailingTimes(
            TRANSIENT_ERRORS[kind], 1)
    shares = [action(user, m, ActionKind.shared) for m in media.values()]
    await policy.produce(USER_ACTIONS, shares)
    await policy.produce(TRAINING_CANDIDATES, list(proposed.values()))
    ids = {policy.training_id(c.data.candidate_id) for c in proposed.values()}
    assert await decisions(policy, TRAINING_MEDIA, ids) == dict.fromkeys(ids, 1)
    assert {kind: f.calls for kind, f in copy_faults.items()} == dict.fromkeys(
        TRANSIENT_ERRORS, 2)  # failed once, held, copied on the retry
    rejected = await read_records(policy.env.kafka.bootstrap_servers,
                                  policy.env.topic(TRAINING_DECISIONS), timeout_s=10)
    assert not ids & {json.loads(r.value)["data"]["candidate_id"] for r in rejected}
    assert await dead_letters_of(policy, [*proposed.values(), *shares]) == []


async def test_a_failure_that_is_not_transient_is_dead_lettered_and_the_gate_goes_on(gate):
    policy, faults, _ = gate
    broken, fine = policy.user_key("not-transient-broken"), policy.user_key("not-transient")
    fault = faults.users[broken] = FailingTimes(lambda: ValueError("a bug (injected)"),
                                                times=10**6)
    doomed, proposed = candidate(broken, uuid.uuid4()), candidate(fine, uuid.uuid4())
    await policy.produce(TRAINING_CANDIDATES, [doomed, proposed])
    training_id = policy.training_id(proposed.data.candidate_id)
    assert await decisions(policy, TRAINING_DECISIONS, {training_id}) == {training_id: 1}
    [letter] = await eventually(lambda: dead_letters_of(policy, [doomed]),
                                "the dead letter of the failing candidate")
    assert (letter.data.error_type, letter.data.attempts) == ("ValueError", MAX_ATTEMPTS)
    assert letter.data.consumer_group == subscription(
        Service.policy, TRAINING_CANDIDATES).group + policy.env.suffix
    assert letter.data.source_topic == policy.env.topic(TRAINING_CANDIDATES)
    assert fault.calls >= MAX_ATTEMPTS
    assert await policy.query("SELECT 1 FROM candidates WHERE user_key = $1", broken) == []
