"""The gate use case with in-memory adapters: held, admitted, rejected, retracted, erased."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_contracts import (
    MEDIA_ERASED,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    ActionKind,
    AdmissionBasis,
    MediaErased,
    TrainingAdmitted,
    TrainingRejected,
    TrainingRetracted,
)
from gemroll_policy import metrics
from gemroll_policy.adapters.memory import InMemoryObjects, InMemoryPolicyStore
from gemroll_policy.adapters.workers import ErasureWorker
from gemroll_policy.domain import (
    Admit,
    CandidateStatus,
    Decided,
    Pseudonymizer,
    training_key,
    verify,
)
from gemroll_policy.ports import StorageUnavailable
from gemroll_policy.usecases import GateHandler, ReportHandler, refuse_unbacked
from gemroll_testkit.events import action, candidate, consent, user_key


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


P = Pseudonymizer("unit-test-pseudonym-secret")


def M(media_id: uuid.UUID) -> uuid.UUID:  # noqa: N802 - reads like the id it stands for
    """A media id as training records carry it (opaque)."""
    return P.opaque("media", media_id)


def T(candidate_id: uuid.UUID) -> uuid.UUID:  # noqa: N802
    """A candidate id as training records carry it (opaque)."""
    return P.training_id(candidate_id)


@pytest.fixture
def pseudonyms() -> Pseudonymizer:
    return P


@pytest.fixture
def store(pseudonyms) -> InMemoryPolicyStore:
    return InMemoryPolicyStore(pseudonyms)


@pytest.fixture
def objects() -> InMemoryObjects:
    return InMemoryObjects()


class CopyingGate(GateHandler):
    """The gate as the service runs it: each batch, then a round of the copier (which makes
    the training copies the batch queued and admits what is still admitted)."""

    async def handle(self, events, dead_letters=()):  # type: ignore[no-untyped-def]
        outcomes = await super().handle(events, dead_letters)
        return outcomes + await self.copy_admissions()


@pytest.fixture
def gate(store, pseudonyms, clock, objects) -> GateHandler:
    return CopyingGate(store, pseudonyms, retention_days=30, clock=clock, objects=objects,
                       copy_concurrency=4)


@pytest.fixture
def bare_gate(store, pseudonyms, clock, objects) -> GateHandler:
    """The batch alone: admissions wait in the copy queue until `copy_admissions`."""
    return GateHandler(store, pseudonyms, retention_days=30, clock=clock, objects=objects,
                       copy_concurrency=4)


async def erase_queued(store: InMemoryPolicyStore, objects: InMemoryObjects) -> None:
    """Run the erasure worker over the queued jobs, as the service does after a commit."""
    await ErasureWorker(store, objects, interval_s=1).run_once(limit=1000)
    assert not store.jobs


def published(store: InMemoryPolicyStore, topic: str) -> list:
    parse = {TRAINING_MEDIA.name: lambda v: (TrainingAdmitted if b'"training.admitted"' in v
                                             else TrainingRetracted).from_json(v),
             TRAINING_DECISIONS.name: TrainingRejected.from_json,
             MEDIA_ERASED.name: MediaErased.from_json}[topic]
    return [parse(m.payload) for m in store.messages(topic)]


async def test_candidate_is_held_until_a_qualifying_action_then_admitted(gate, store, clock):
    user, media = user_key(1), uuid.uuid4()
    await gate.handle([consent(user)])
    held = candidate(user, media, proposed_at=clock.now)
    await gate.handle([held])
    assert store.candidates[held.data.candidate_id].status is CandidateStatus.pending
    assert published(store, TRAINING_MEDIA.name) == []
    assert published(store, TRAINING_DECISIONS.name) == []

    share = action(user, media, ActionKind.shared, acted_at=clock.now)
    await gate.handle([share])
    [admitted] = published(store, TRAINING_MEDIA.name)
    assert isinstance(admitted, TrainingAdmitted)
    assert admitted.data.candidate_id == T(held.data.candidate_id)
    assert admitted.data.basis is AdmissionBasis.shared
    assert admitted.data.evidence == [P.opaque("action", share.event_id)]
    assert admitted.data.policy_version
    assert admitted.trace_id == share.trace_id


def assert_no_user_key_in_training_events(store: InMemoryPolicyStore, user: str) -> None:
    messages = store.messages(TRAINING_MEDIA.name) + store.messages(TRAINING_DECISIONS.name)
    assert messages
    for m in messages:
        assert user not in m.payload.decode()  # the whole event JSON, envelope included
        assert user not in m.key


async def test_training_events_carry_the_pseudonym_never_the_user_key(gate, store, pseudonyms,
                                                                      objects):
    user, media, derived = user_key(2), uuid.uuid4(), uuid.uuid4()
    rejected_user = user_key(102)
    await gate.handle([consent(user), action(user, media, ActionKind.edited_with_ai),
                       candidate(user, media),
                       candidate(user, media, source="suggester", derived_media_id=derived),
                       consent(rejected_user, training_opt_out=True),
                       candidate(rejected_user, uuid.uuid4())])
    for topic in (TRAINING_MEDIA.name, TRAINING_DECISIONS.name):
        for m in store.messages(topic):
            assert m.key in {pseudonyms.subject(user), pseudonyms.subject(rejected_user)}
    assert_no_user_key_in_training_events(store, user)
    assert_no_user_key_in_training_events(store, rejected_user)
    admitted = published(store, TRAINING_MEDIA.name)
    assert len(admitted) == 2
    subject = pseudonyms.subject(user)
    for event in admitted:
        assert event.data.subject == subject != user
        # the event names the pseudonymous training copy, never ingest's `users/<key>/...`
        assert event.data.object_key == training_key(subject, event.data.candidate_id)
        assert event.data.bucket == objects.bucket
    assert objects.keys() == sorted(e.data.object_key for e in admitted)
    await gate.handle([action(user, media, ActionKind.unshared)])
    assert_no_user_key_in_training_events(store, user)
    for record in store.audit:
        assert user not in json.dumps(record.entries)


async def test_each_candidate_is_decided_once_even_when_repeated(gate, store):
    user, media = user_key(3), uuid.uuid4()
    first = candidate(user, media)
    again = candidate(user, media)  # a re-sent candidate: same id, new event id
    assert first.data.candidate_id == again.data.candidate_id
    await gate.handle([consent(user, camera_roll=False), first, again])
    await gate.handle([first])
    [rejected] = published(store, TRAINING_DECISIONS.name)
    assert rejected.data.reason.value == "not_opted_in"


@pytest.mark.parametrize(("change", "reason"), [
    ("unshare", "unshared"),
    ("training_opt_out", "training_opt_out"),
    ("camera_roll_opt_out", "camera_roll_opt_out"),
])
async def test_revocation_retracts_admitted_items(gate, store, objects, change, reason):
    user, media = user_key(4), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared),
                       candidate(user, media), candidate(user, media, source="suggester",
                                                         derived_media_id=uuid.uuid4())])
    assert len(published(store, TRAINING_MEDIA.name)) == 2
    trigger = {
        "unshare": action(user, media, ActionKind.unshared),
        "training_opt_out": consent(user, training_opt_out=True, seq=2),
        "camera_roll_opt_out": consent(user, camera_roll=False, seq=2),
    }[change]
    await gate.handle([trigger])
    retractions = [e for e in published(store, TRAINING_MEDIA.name)
                   if isinstance(e, TrainingRetracted)]
    assert len(retractions) == 2
    assert {r.data.reason.value for r in retractions} == {reason}
    assert all(c.status is CandidateStatus.retracted for c in store.candidates.values())
    assert len(objects.keys("training/")) == 2
    await erase_queued(store, objects)
    assert objects.keys("training/") == []  # retracted: the training copies are gone
    # a retraction is final: sharing again does not re-admit the same candidates
    await gate.handle([consent(user, seq=3), action(user, media, ActionKind.shared)])
    assert len(published(store, TRAINING_MEDIA.name)) == 4


async def test_media_deletion_retracts_erases_and_tombstones(gate, store, pseudonyms,
                                                             objects):
    user, media, derived, suggestion = user_key(5), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = candidate(user, media)
    await gate.handle([
        consent(user),
        action(user, media, ActionKind.edited_with_ai, suggestion_id=suggestion,
               derived_media_id=derived),
        first, candidate(user, media, source="suggester", derived_media_id=derived),
    ])
    pending_media = uuid.uuid4()
    await gate.handle([candidate(user, pending_media)])
    delete = action(user, media, ActionKind.media_deleted, producer="ingest")
    await gate.handle([delete, action(user, pending_media, ActionKind.media_deleted)])

    retracted = [e for e in published(store, TRAINING_MEDIA.name)
                 if isinstance(e, TrainingRetracted)]
    assert {r.data.reason.value for r in retracted} == {"media_deleted"}
    assert len(retracted) == 2
    [pending_rejected] = published(store, TRAINING_DECISIONS.name)
    assert pending_rejected.data.reason.value == "media_deleted"
    [erased] = published(store, MEDIA_ERASED.name)
    assert set(erased.data.media_ids) == {media, pending_media}
    assert erased.data.reason.value == "media_deleted"
    # nothing of the media is left but the tombstone
    assert not store.media and not store.candidates
    assert set(store.tombstones) == {(user, media), (user, pending_media)}
    subject = pseudonyms.subject(user)
    [job] = [j for j in store.jobs.values() if j.reason == "media_deleted"]
    assert f"users/{user}/media/{media}" in job.prefixes
    assert f"users/{user}/derived/{derived}" in job.prefixes
    assert f"users/{user}/suggestions/{suggestion}/" in job.prefixes
    assert training_key(subject, T(first.data.candidate_id)) in job.prefixes
    assert all(p.startswith((f"users/{user}/", f"training/{subject}/")) for p in job.prefixes)
    assert len(objects.keys(f"training/{subject}/")) == 2
    await erase_queued(store, objects)
    assert objects.keys("training/") == []

    # replays and late arrivals: no second decision, no resurrection
    await gate.handle([first, action(user, media, ActionKind.shared)])
    late = candidate(user, media, source="suggester", derived_media_id=uuid.uuid4())
    await gate.handle([late])
    rejected = published(store, TRAINING_DECISIONS.name)
    assert [r.data.candidate_id for r in rejected] == [pending_rejected.data.candidate_id,
                                                       T(late.data.candidate_id)]
    assert rejected[-1].data.reason.value == "media_deleted"
    assert not store.media


async def test_opt_out_with_erase_erases_every_media_of_the_user(gate, store, pseudonyms,
                                                                 objects):
    user, other = user_key(6), user_key(7)
    mine = [uuid.uuid4() for _ in range(3)]
    theirs = uuid.uuid4()
    await gate.handle([consent(user), consent(other)]
                      + [candidate(user, m) for m in mine] + [candidate(other, theirs)])
    await gate.handle([action(user, mine[0], ActionKind.shared)])
    await gate.handle([consent(user, camera_roll=False, erase_data=True, seq=2)])
    [erased] = published(store, MEDIA_ERASED.name)
    assert erased.data.reason.value == "account_erasure"
    assert set(erased.data.media_ids) == set(mine)
    [job] = [j for j in store.jobs.values() if j.reason == "account_erasure"]
    assert f"users/{user}/" in job.prefixes
    assert f"training/{pseudonyms.subject(user)}/" in job.prefixes
    assert not any(other in p or pseudonyms.subject(other) in p for p in job.prefixes)
    await erase_queued(store, objects)
    assert objects.keys("training/") == []
    assert set(store.media) == {(other, theirs)}
    [retracted] = [e for e in published(store, TRAINING_MEDIA.name)
                   if isinstance(e, TrainingRetracted)]
    assert retracted.data.reason.value == "camera_roll_opt_out"


async def test_retention_erases_media_never_saved_or_shared(gate, store, clock):
    user = user_key(8)
    forgotten, saved, shared = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await gate.handle([consent(user)] + [candidate(user, m, proposed_at=clock.now)
                                         for m in (forgotten, saved, shared)])
    await gate.handle([action(user, saved, ActionKind.saved, acted_at=clock.now),
                       action(user, shared, ActionKind.shared, acted_at=clock.now)])
    clock.advance(days=29)
    assert await gate.sweep() == []
    clock.advance(days=1, seconds=1)
    await gate.sweep()
    [erased] = published(store, MEDIA_ERASED.name)
    assert erased.data.media_ids == [forgotten]
    assert erased.data.reason.value == "retention_expired"
    reasons = {r.data.media_id: r.data.reason.value
               for r in published(store, TRAINING_DECISIONS.name)}
    assert reasons == {M(forgotten): "retention_expired", M(saved): "no_qualifying_action"}
    assert set(store.media) == {(user, saved), (user, shared)}
    assert store.candidates[candidate(user, shared).data.candidate_id].status is \
        CandidateStatus.admitted
    assert await gate.sweep() == []  # nothing left to do


async def test_an_admission_without_evidence_is_refused_and_counted(store, pseudonyms):
    before = metrics.ADMISSIONS_WITHOUT_EVIDENCE._value.get()
    from gemroll_policy.domain import Candidate

    c = Candidate(uuid.uuid4(), user_key(9), uuid.uuid4(), "classifier", "gemroll-media",
                  "users/x/media/y", datetime.now(UTC), status=CandidateStatus.admitted)
    kept = refuse_unbacked([Decided(c, Admit(AdmissionBasis.shared, ()), None)])
    assert kept == []
    assert c.status is CandidateStatus.pending
    assert metrics.ADMISSIONS_WITHOUT_EVIDENCE._value.get() == before + 1


async def test_database_failure_decides_nothing(gate, store):
    user, media = user_key(10), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared)])
    store.fail_next = ConnectionRefusedError("database down")
    with pytest.raises(ConnectionRefusedError):
        await gate.handle([candidate(user, media)])
    assert published(store, TRAINING_MEDIA.name) == []
    await gate.handle([candidate(user, media)])
    assert len(published(store, TRAINING_MEDIA.name)) == 1


async def test_audit_chain_records_every_decision_and_detects_tampering(gate, store):
    user, media = user_key(11), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared),
                       candidate(user, media)])
    await gate.handle([action(user, media, ActionKind.unshared)])
    assert [e["kind"] for r in store.audit for e in r.entries] == ["admitted", "retracted"]
    assert verify(store.audit).ok
    tampered = list(store.audit)
    from dataclasses import replace

    first = tampered[0]
    tampered[0] = replace(first, entries=[{**first.entries[0], "basis": "edited_with_ai"}])
    check = verify(tampered)
    assert not check.ok and check.first_bad_seq == 1
    assert not verify(store.audit[1:]).ok  # a removed entry is detected too


async def test_training_report_lists_admitted_and_retracted_items(gate, store, pseudonyms):
    user, kept_media, dropped_media = user_key(12), uuid.uuid4(), uuid.uuid4()
    share = action(user, kept_media, ActionKind.shared)
    await gate.handle([consent(user), share, action(user, dropped_media, ActionKind.shared),
                       candidate(user, kept_media), candidate(user, dropped_media)])
    await gate.handle([action(user, dropped_media, ActionKind.media_deleted)])
    report = await ReportHandler(store, pseudonyms).report(user)
    by_media = {i.media_id: i for i in report.items}
    assert by_media[kept_media].status == "admitted"
    assert by_media[kept_media].basis == "shared"
    assert by_media[kept_media].evidence == [share.event_id]
    assert by_media[dropped_media].status == "retracted"
    assert by_media[dropped_media].retraction_reason == "media_deleted"
    assert by_media[dropped_media].retracted_at is not None
    assert [e.media_id for e in report.erased] == [dropped_media]
    other = await ReportHandler(store, pseudonyms).report(user_key(13))
    assert other.items == [] and other.erased == []


async def test_a_failed_copy_holds_only_its_admission_and_is_retried(gate, store, objects,
                                                                     clock):
    """Revocations never wait behind admissions: with the object store failing, the batch's
    retraction and rejection commit; the admission is held and made once the store is back."""
    user, media, shared_before = user_key(14), uuid.uuid4(), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared),
                       action(user, shared_before, ActionKind.shared),
                       candidate(user, shared_before)])
    [earlier] = published(store, TRAINING_MEDIA.name)
    objects.fail_next = StorageUnavailable("copy failed: ConnectionRefusedError")
    outsider = user_key(114)
    await gate.handle([candidate(user, media),
                       action(user, shared_before, ActionKind.unshared),
                       candidate(outsider, uuid.uuid4())])
    training = published(store, TRAINING_MEDIA.name)
    assert [type(e).__name__ for e in training] == ["TrainingAdmitted", "TrainingRetracted"]
    assert training[1].data.candidate_id == earlier.data.candidate_id  # both opaque
    [rejected] = published(store, TRAINING_DECISIONS.name)
    assert rejected.data.reason.value == "not_opted_in"
    held = store.candidates[candidate(user, media).data.candidate_id]
    assert held.status is CandidateStatus.pending and held.candidate_id in store.copy_retries

    assert await gate.copy_admissions() == []  # not due yet
    clock.advance(seconds=2)
    [outcome] = await gate.copy_admissions()
    assert isinstance(outcome, Decided) and isinstance(outcome.verdict, Admit)
    admitted = published(store, TRAINING_MEDIA.name)[-1]
    assert admitted.data.candidate_id == T(held.candidate_id)
    assert admitted.data.object_key in objects.keys()
    assert store.copy_retries == {}


async def test_an_unusable_source_is_rejected_and_the_batch_goes_on(gate, store, objects):
    user, poison, fine = user_key(114), uuid.uuid4(), uuid.uuid4()
    bad = candidate(user, poison)
    objects.unusable.add(bad.data.object_key)
    await gate.handle([consent(user), action(user, poison, ActionKind.shared),
                       action(user, fine, ActionKind.shared), bad, candidate(user, fine)])
    [admitted] = published(store, TRAINING_MEDIA.name)
    assert admitted.data.media_id == M(fine)
    [rejected] = published(store, TRAINING_DECISIONS.name)
    assert (rejected.data.media_id, rejected.data.reason.value) == (M(poison),
                                                                    "source_unusable")


async def test_a_replayed_admission_copies_to_the_same_key(gate, store, objects, pseudonyms):
    user, media = user_key(15), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared)])
    proposed = candidate(user, media)
    store.fail_next = ConnectionRefusedError("database down at commit")
    with pytest.raises(ConnectionRefusedError):
        await gate.handle([proposed])
    await gate.handle([proposed])
    await gate.handle([proposed])
    [admitted] = published(store, TRAINING_MEDIA.name)
    assert objects.keys() == [training_key(pseudonyms.subject(user),
                                           T(proposed.data.candidate_id))]
    assert admitted.data.object_key == objects.keys()[0]


async def test_a_missing_source_object_rejects_as_media_deleted(gate, store, objects):
    user, gone, present = user_key(16), uuid.uuid4(), uuid.uuid4()
    gone_candidate = candidate(user, gone)
    objects.missing.add(gone_candidate.data.object_key)
    await gate.handle([consent(user), action(user, gone, ActionKind.shared),
                       action(user, present, ActionKind.shared), gone_candidate,
                       candidate(user, present)])
    [admitted] = published(store, TRAINING_MEDIA.name)
    assert admitted.data.media_id == M(present)
    [rejected] = published(store, TRAINING_DECISIONS.name)
    assert (rejected.data.media_id, rejected.data.reason.value) == (M(gone), "media_deleted")
    c = store.candidates[gone_candidate.data.candidate_id]
    assert c.status is CandidateStatus.rejected and c.basis is None
    # final: the candidate is never admitted later, even once the object is back
    objects.missing.clear()
    await gate.handle([gone_candidate, action(user, gone, ActionKind.edited_with_ai)])
    assert len(published(store, TRAINING_MEDIA.name)) == 1
    assert [e["kind"] for r in store.audit for e in r.entries].count("rejected") == 1


async def test_copies_of_one_batch_run_concurrently_within_the_bound(store, pseudonyms, clock):
    import asyncio

    class SlowObjects(InMemoryObjects):
        def __init__(self) -> None:
            super().__init__()
            self.running = self.peak = 0

        async def copy(self, source_bucket, source_key, training_key):
            self.running += 1
            self.peak = max(self.peak, self.running)
            await asyncio.sleep(0.001)
            self.running -= 1
            return await super().copy(source_bucket, source_key, training_key)

    objects = SlowObjects()
    gate = CopyingGate(store, pseudonyms, retention_days=30, clock=clock, objects=objects,
                       copy_concurrency=3)
    user = user_key(17)
    media = [uuid.uuid4() for _ in range(10)]
    await gate.handle([consent(user)] + [action(user, m, ActionKind.shared) for m in media]
                      + [candidate(user, m) for m in media])
    assert len(objects.keys("training/")) == 10
    assert objects.peak == 3


async def test_a_quick_opt_out_and_back_in_retracts_before_the_gate_sees_either(
        gate, store, pseudonyms, clock):
    """The consent API writes the ledger at once; the gate consumes the events later, when
    the latest state is opted in again. The opt-out still retracts, and the old share admits
    nothing after the opt-in."""
    from gemroll_contracts import ConsentChanged
    from gemroll_policy.usecases import ConsentHandler

    user, media, later = user_key(20), uuid.uuid4(), uuid.uuid4()
    api = ConsentHandler(store, pseudonyms, clock)
    await api.change(user, camera_roll=True)
    clock.advance(seconds=1)
    await gate.handle([ConsentChanged.from_json(store.messages("gemroll.consent.v1")[0].payload),
                       action(user, media, ActionKind.shared, acted_at=clock.now),
                       candidate(user, media), candidate(user, later)])
    [admitted] = published(store, TRAINING_MEDIA.name)
    await gate.handle([action(user, later, ActionKind.shared, acted_at=clock.now)])
    clock.advance(seconds=1)
    await api.change(user, training_opt_out=True)
    clock.advance(seconds=1)
    await api.change(user, training_opt_out=False)
    events = [ConsentChanged.from_json(m.payload)
              for m in store.messages("gemroll.consent.v1")[1:]]
    assert [e.data.training_opt_out for e in events] == [True, False]
    await gate.handle(events)
    retracted = [e for e in published(store, TRAINING_MEDIA.name)
                 if isinstance(e, TrainingRetracted)]
    assert {e.data.candidate_id for e in retracted} == {
        admitted.data.candidate_id, T(candidate(user, later).data.candidate_id)}
    assert {e.data.reason.value for e in retracted} == {"consent_withdrawn"}
    # a new share after the opt-in is evidence again, for a new candidate
    fresh = uuid.uuid4()
    clock.advance(seconds=1)
    await gate.handle([action(user, fresh, ActionKind.shared, acted_at=clock.now),
                       candidate(user, fresh)])
    assert published(store, TRAINING_MEDIA.name)[-1].data.media_id == M(fresh)


async def test_a_share_made_while_opted_out_never_admits_after_an_opt_in(gate, store, clock):
    user, media = user_key(21), uuid.uuid4()
    await gate.handle([consent(user, training_opt_out=True, at=clock.now)])
    clock.advance(seconds=1)
    await gate.handle([action(user, media, ActionKind.shared, acted_at=clock.now)])
    clock.advance(seconds=1)
    await gate.handle([consent(user, seq=2, at=clock.now), candidate(user, media)])
    assert published(store, TRAINING_MEDIA.name) == []
    assert store.candidates[candidate(user, media).data.candidate_id].status is \
        CandidateStatus.pending  # held: waits for evidence given under this consent
    clock.advance(seconds=1)
    await gate.handle([action(user, media, ActionKind.edited_with_ai, acted_at=clock.now)])
    [admitted] = published(store, TRAINING_MEDIA.name)
    assert admitted.data.basis.value == "edited_with_ai"


async def test_retention_and_account_erasure_reach_media_never_classified(gate, store, clock):
    """The gate learns of every upload: media whose classification never came is erased by
    retention and by an account erasure like any other."""
    from gemroll_testkit.events import uploaded

    user = user_key(22)
    never_classified, erased_with_account = uuid.uuid4(), uuid.uuid4()
    await gate.handle([consent(user), uploaded(user, never_classified, at=clock.now)])
    clock.advance(days=31)
    await gate.sweep()
    [erased] = published(store, MEDIA_ERASED.name)
    assert (erased.data.media_ids, erased.data.reason.value) == (
        [never_classified], "retention_expired")
    await gate.handle([uploaded(user, erased_with_account, at=clock.now)])
    clock.advance(seconds=1)
    await gate.handle([consent(user, camera_roll=False, erase_data=True, seq=2,
                               at=clock.now)])
    account = published(store, MEDIA_ERASED.name)[-1]
    assert (account.data.media_ids, account.data.reason.value) == (
        [erased_with_account], "account_erasure")
    # a replayed upload of erased media does not bring it back
    await gate.handle([uploaded(user, never_classified, at=clock.now)])
    assert (user, never_classified) not in store.media


async def test_a_copy_whose_commit_rolled_back_is_erased_once_the_candidate_is_rejected(
        bare_gate, store, objects, clock):
    """The copy is written before its admission commits; the commit fails, and before the
    copier's next round the user opts out: the candidate is rejected, and the copy already
    written is found (it was recorded first) and erased."""
    gate = bare_gate
    user, media = user_key(23), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared)])
    proposed = candidate(user, media)
    await gate.handle([proposed])
    store.fail_at_save = ConnectionRefusedError("database gone at commit")
    with pytest.raises(ConnectionRefusedError):
        await gate.copy_admissions()
    assert len(objects.keys("training/")) == 1  # written, never committed
    await gate.handle([consent(user, training_opt_out=True, seq=2), proposed])
    assert published(store, TRAINING_MEDIA.name) == []
    await gate.copy_admissions()
    assert len(objects.keys("training/")) == 1  # not yet: it may be a commit in flight
    clock.advance(minutes=6)
    await gate.copy_admissions()
    await erase_queued(store, objects)
    assert objects.keys("training/") == [] and store.copy_intents == {}


async def test_an_admitted_copy_is_never_taken_for_an_orphan(gate, store, objects, clock):
    user, media = user_key(24), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared),
                       candidate(user, media)])
    clock.advance(days=2)
    await gate.copy_admissions()
    await erase_queued(store, objects)
    assert len(objects.keys("training/")) == 1 and store.copy_intents == {}


# -- the copy queue: copies are made outside the decision's transaction --------------------

async def test_a_batch_commits_without_touching_the_object_store(bare_gate, store, objects):
    """The batch's rejections and retractions commit with the store unreachable: the
    admission waits in the copy queue, and no copy is even tried before the commit."""
    gate = bare_gate
    user, opted_out, media = user_key(30), user_key(31), uuid.uuid4()
    objects.fail_next = StorageUnavailable("store down")
    await gate.handle([consent(user), consent(opted_out, training_opt_out=True),
                       action(user, media, ActionKind.shared)])
    proposed = candidate(user, media)
    outcomes = await gate.handle([proposed, candidate(opted_out, uuid.uuid4())])
    assert [type(o.verdict).__name__ for o in outcomes] == ["Reject"]
    [rejected] = published(store, TRAINING_DECISIONS.name)
    assert rejected.data.reason.value == "training_opt_out"
    assert published(store, TRAINING_MEDIA.name) == []
    assert objects.fail_next is not None and objects.keys("training/") == []  # never tried
    assert proposed.data.candidate_id in store.copy_retries
    assert store.candidates[proposed.data.candidate_id].status is CandidateStatus.pending


async def test_an_opt_out_that_lands_while_the_copy_is_made_wins(bare_gate, store, objects,
                                                                 pseudonyms, clock):
    """The race an auditor would try: the user opts out after the admission was queued,
    while its copy is being written. The copier decides again once the copy is in, so the
    candidate is rejected, nothing is published to training, and the copy is erased at once
    (not left for the orphan sweep)."""
    gate = bare_gate
    user, media = user_key(32), uuid.uuid4()
    await gate.handle([consent(user), action(user, media, ActionKind.shared)])
    proposed = candidate(user, media)
    await gate.handle([proposed])

    class RacingObjects(InMemoryObjects):
        async def copy(self, source_bucket, source_key, training_key):
            written = await objects.copy(source_bucket, source_key, training_key)
            await gate.handle([consent(user, training_opt_out=True, seq=2)])  # mid-copy
            return written

    gate.copies.objects = RacingObjects()
    assert await gate.copy_admissions() == []
    assert published(store, TRAINING_MEDIA.name) == []
    c = store.candidates[proposed.data.candidate_id]
    assert c.status is CandidateStatus.rejected and c.reason.value == "training_opt_out"
    assert len(objects.keys("training/")) == 1
    await erase_queued(store, objects)
    assert objects.keys("training/") == [] and store.copy_retries == {}


async def test_two_copiers_never_copy_or_admit_the_same_candidate_twice(bare_gate, store,
                                                                        objects):
    """Two gate instances run their copiers at once over one queue: each waiting admission
    is claimed by one of them, copied once and admitted once."""
    gate = bare_gate
    user = user_key(33)
    media = [uuid.uuid4() for _ in range(12)]
    await gate.handle([consent(user)] + [action(user, m, ActionKind.shared) for m in media])
    await gate.handle([candidate(user, m) for m in media])
    first, second = await asyncio.gather(gate.copy_admissions(limit=7),
                                         gate.copy_admissions(limit=7))
    assert len(first) + len(second) == 12 and objects.copies == 12
    admitted = published(store, TRAINING_MEDIA.name)
    assert len({a.data.candidate_id for a in admitted}) == len(admitted) == 12
    assert await gate.copy_admissions() == [] and store.copy_retries == {}
