"""Property: after any sequence of consent changes, actions, deletions, candidates, redeliveries
and passing time, the items admitted and not retracted are exactly those the rules allow.

Consent changes also go through the consent API (the ledger) with their events delivered to the
gate later, after further changes: a quick opt-out and opt-in retracts all the same, and
evidence given before an opt-out never admits after the opt-in.

The expectation is a small model written here independently of the service's code: it keeps
the raw history and re-derives each candidate's status from scratch after every step.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

from gemroll_contracts import (
    MEDIA_ERASED,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    ActionKind,
    ConsentChanged,
    Event,
    MediaErased,
    TrainingCandidate,
)
from gemroll_policy.adapters.memory import InMemoryObjects, InMemoryPolicyStore
from gemroll_policy.adapters.workers import ErasureWorker
from gemroll_policy.domain import Pseudonymizer, training_key, verify
from gemroll_policy.usecases import ConsentHandler, GateHandler
from gemroll_testkit.events import action, candidate, consent, user_key
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

USERS = [user_key("stateful-a"), user_key("stateful-b")]
MEDIA = [uuid.UUID(int=i + 1) for i in range(3)]
OWNER = {m: USERS[0] if i < 2 else USERS[1] for i, m in enumerate(MEDIA)}
DERIVED = {m: uuid.UUID(int=100 + i) for i, m in enumerate(MEDIA)}
SOURCES = ["classifier", "suggester"]
RETENTION = timedelta(days=30)
QUALIFYING = {"edited_with_ai", "shared"}


def run(coro):
    return asyncio.run(coro)


class Model:
    """What the rules say, derived from the raw history only."""

    def __init__(self) -> None:
        self.consent: dict[str, tuple[bool, bool]] = {}
        self.allowed_since: dict[str, datetime | None] = {}
        self.history: dict[uuid.UUID, list[str]] = {m: [] for m in MEDIA}
        self.times: dict[uuid.UUID, list[datetime]] = {m: [] for m in MEDIA}
        self.first_seen: dict[uuid.UUID, datetime] = {}
        self.erased: set[uuid.UUID] = set()
        self.proposed: dict[tuple[uuid.UUID, str], datetime] = {}
        self.ever_refused: set[tuple[uuid.UUID, str]] = set()
        self.ever_allowed: set[tuple[uuid.UUID, str]] = set()

    def status(self, media: uuid.UUID, source: str, now: datetime) -> str:
        """'allowed', 'waiting' (held) or 'refused'."""
        if media in self.erased:
            return "refused"
        camera_roll, opted_out = self.consent.get(OWNER[media], (False, False))
        if not camera_roll or opted_out:
            return "refused"
        kinds = self.history[media]
        if "media_deleted" in kinds:
            return "refused"
        kept = "saved" in kinds or "shared" in kinds
        if now - self.first_seen[media] > RETENTION and not kept:
            return "refused"
        last_unshare = max((i for i, k in enumerate(kinds) if k == "unshared"), default=-1)
        since = self.allowed_since[OWNER[media]]
        # evidence: AI edits whenever they were made, shares not unshared since
        evidence = [(k, at) for i, (k, at) in enumerate(zip(kinds, self.times[media],
                                                             strict=True))
                    if k == "edited_with_ai" or (k == "shared" and i > last_unshare)]
        if any(at >= since for _, at in evidence):
            return "allowed"
        if evidence:
            return "waiting"  # evidence from before an opt-out: no evidence
        if any(k in QUALIFYING for k in kinds):
            return "refused"  # unshared since
        if now - self.proposed[(media, source)] > RETENTION:
            return "refused"  # held too long
        return "waiting"

    def set_consent(self, user: str, camera_roll: bool, opted_out: bool, now: datetime) -> None:
        was = self.consent.get(user, (False, True))
        allowed = camera_roll and not opted_out
        if not allowed:
            self.allowed_since[user] = None
        elif not (was[0] and not was[1]):
            self.allowed_since[user] = now
        self.consent[user] = (camera_roll, opted_out)

    def seen(self, media: uuid.UUID, now: datetime) -> None:
        self.first_seen.setdefault(media, now)

    def erase(self, media: uuid.UUID) -> None:
        if media in self.first_seen:
            self.erased.add(media)


class GateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2025, 1, 1, tzinfo=UTC)
        self.pseudonyms = Pseudonymizer("stateful-test-pseudonym-secret")
        self.store = InMemoryPolicyStore(self.pseudonyms)
        self.objects = InMemoryObjects()
        self.gate = GateHandler(self.store, self.pseudonyms, retention_days=30,
                                clock=lambda: self.now, objects=self.objects)
        self.eraser = ErasureWorker(self.store, self.objects, interval_s=1)
        self.model = Model()
        self.consents = ConsentHandler(self.store, self.pseudonyms, clock=lambda: self.now)
        self.seq = dict.fromkeys(USERS, 0)
        self.sent: list[Event] = []
        self.in_flight: list[Event] = []
        self.touched: set[tuple[object, object]] = set()
        self.handled: dict[uuid.UUID, Event] = {}
        """Consent events written by the API, not yet delivered to the gate."""

    def touch(self, event: Event) -> None:
        """What the gate re-judges when it handles `event`: all of a user's candidates on a
        consent change, those of the event's media on a new action, a new candidate itself,
        nothing on a repeated action or candidate (it is ignored)."""
        if isinstance(event, ConsentChanged):
            self.touched.add((event.data.user_key, None))
            return
        first_time = event.event_id not in self.handled
        known = isinstance(event, TrainingCandidate) and any(
            e.data.candidate_id == event.data.candidate_id for e in self.handled.values()
            if isinstance(e, TrainingCandidate) and e.event_id != event.event_id)
        self.handled[event.event_id] = event
        if not first_time or known:
            return
        if isinstance(event, TrainingCandidate):  # a new candidate: only it is judged
            self.touched.add((event.data.media_id, event.data.source.value))
        else:
            self.touched.add((event.data.user_key, event.data.media_id))

    def tick(self) -> None:
        self.now += timedelta(seconds=1)  # every step happens at its own instant

    def decide(self, event: Event) -> None:
        """The gate handles the event, then its copier makes the copies it queued."""
        run(self.gate.handle([event]))
        run(self.gate.copy_admissions())

    def send(self, event: Event) -> None:
        self.sent.append(event)
        self.touch(event)
        self.decide(event)

    def after(self) -> None:
        run(self.eraser.run_once(limit=1000))  # the erasure worker catches up
        for key in self.model.proposed:
            # While consent changes are in flight, the gate judges a user's candidates only
            # when it handles an event of that user (it then reads the ledger, as the model).
            owner = OWNER[key[0]]
            seen = (not self.in_flight or (owner, None) in self.touched
                    or (owner, key[0]) in self.touched or key in self.touched)
            if not seen:
                continue
            status = self.model.status(*key, self.now)
            if status == "allowed":
                self.model.ever_allowed.add(key)
            # an admission whose evidence an opt-out voided is retracted, for good
            if status == "refused" or (status == "waiting" and key in self.model.ever_allowed):
                self.model.ever_refused.add(key)
        self.touched = set()

    # -- steps ---------------------------------------------------------------------------
    @initialize()
    def both_users_opt_in(self):
        for user in USERS:
            self.change_consent(user, camera_roll=True, opt_out=False, erase=False)

    # Weighted towards consent that admits, so that revocations get exercised often.
    @rule(user=st.sampled_from(USERS), camera_roll=st.sampled_from([True, True, True, False]),
          opt_out=st.sampled_from([False, False, False, True]), erase=st.booleans())
    def change_consent(self, user, camera_roll, opt_out, erase):
        erase = erase and not camera_roll
        self.deliver_all()
        self.tick()
        self.seq[user] += 1
        self.send(consent(user, camera_roll=camera_roll, training_opt_out=opt_out,
                          erase_data=erase, seq=self.seq[user], at=self.now))
        self.model.set_consent(user, camera_roll, opt_out, self.now)
        if erase:
            for m in MEDIA:
                if OWNER[m] == user:
                    self.model.erase(m)
        self.after()

    @rule(media=st.sampled_from(MEDIA), kind=st.sampled_from(
        [*ActionKind, ActionKind.shared, ActionKind.edited_with_ai, ActionKind.unshared]))
    def act(self, media, kind):
        self.tick()
        self.send(action(OWNER[media], media, kind, acted_at=self.now))
        if media not in self.model.erased:
            self.model.seen(media, self.now)
            self.model.history[media].append(kind.value)
            self.model.times[media].append(self.now)
            if kind is ActionKind.media_deleted:
                self.model.erase(media)
        self.after()

    @rule(media=st.sampled_from(MEDIA), source=st.sampled_from(SOURCES))
    def propose(self, media, source):
        derived = DERIVED[media] if source == "suggester" else None
        self.tick()
        self.send(candidate(OWNER[media], media, source=source, derived_media_id=derived,
                            proposed_at=self.now))
        if (media, source) not in self.model.proposed:
            self.model.proposed[(media, source)] = self.now
            if media not in self.model.erased:
                self.model.seen(media, self.now)
        self.after()

    @rule(user=st.sampled_from(USERS), camera_roll=st.booleans(), opt_out=st.booleans())
    def change_consent_through_the_api(self, user, camera_roll, opt_out):
        """The ledger changes at once; the gate sees the event later (see `deliver`)."""
        self.tick()
        before = len(self.store.messages("gemroll.consent.v1"))
        changed = run(self.consents.change(user, camera_roll=camera_roll,
                                           training_opt_out=opt_out))
        self.seq[user] = changed.ledger_seq
        self.model.set_consent(user, camera_roll, opt_out, self.now)
        for m in self.store.messages("gemroll.consent.v1")[before:]:
            self.in_flight.append(ConsentChanged.from_json(m.payload))

    @precondition(lambda self: bool(self.in_flight))
    @rule()
    def deliver_one(self):
        self.send(self.in_flight.pop(0))
        self.after()

    def deliver_all(self):
        while self.in_flight:
            self.send(self.in_flight.pop(0))
        self.after()

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def redeliver(self, data):
        """At-least-once delivery upstream: an event arrives again, unchanged."""
        event = data.draw(st.sampled_from(self.sent))
        self.touch(event)
        self.decide(event)
        self.after()

    @rule(days=st.sampled_from([1, 12, 29, 31]))
    def time_passes(self, days):
        self.deliver_all()  # the sweep judges every user: let the gate see the ledger's events
        self.now += timedelta(days=days, seconds=1)
        run(self.gate.sweep())
        for m in list(self.model.first_seen):
            kinds = self.model.history[m]
            if (m not in self.model.erased and self.now - self.model.first_seen[m] > RETENTION
                    and "saved" not in kinds and "shared" not in kinds):
                self.model.erase(m)
        self.after()

    # -- what must hold after every step --------------------------------------------------
    def decisions(self) -> tuple[dict, dict, dict]:
        admitted, rejected, retracted = {}, {}, {}
        for m in self.store.messages(TRAINING_MEDIA.name) + self.store.messages(
                TRAINING_DECISIONS.name):
            raw = json.loads(m.payload)
            data = raw["data"]
            target = {"training.admitted": admitted, "training.rejected": rejected,
                      "training.retracted": retracted}[raw["event_type"]]
            cid = uuid.UUID(data["candidate_id"])
            target[cid] = target.get(cid, 0) + 1
        return admitted, rejected, retracted

    def candidate_ids(self) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
        ids = {}
        for media, source in self.model.proposed:
            derived = DERIVED[media] if source == "suggester" else None
            c = candidate(OWNER[media], media, source=source, derived_media_id=derived)
            ids[self.pseudonyms.training_id(c.data.candidate_id)] = (media, source)  # as published
        return ids

    @invariant()
    def active_items_are_exactly_what_the_rules_allow(self):
        if self.in_flight:
            return  # the gate has not seen every consent change yet
        admitted, _, retracted = self.decisions()
        active = {cid for cid in admitted if cid not in retracted}
        ids = self.candidate_ids()
        expected = {cid for cid, key in ids.items()
                    if self.model.status(*key, self.now) == "allowed"
                    and key not in self.model.ever_refused}
        assert active == expected

    @invariant()
    def training_copies_are_exactly_the_active_items(self):
        if self.in_flight:
            return
        admitted, _, retracted = self.decisions()
        owners = {cid: OWNER[media] for cid, (media, _) in self.candidate_ids().items()}
        active = {training_key(self.pseudonyms.subject(owners[cid]), cid)
                  for cid in admitted if cid not in retracted}
        assert set(self.objects.keys("training/")) == active

    @invariant()
    def no_training_event_names_a_user_key(self):
        for topic in (TRAINING_MEDIA.name, TRAINING_DECISIONS.name):
            for m in self.store.messages(topic):
                assert not any(user.encode() in m.payload for user in USERS)

    @invariant()
    def every_candidate_is_decided_once_unless_held(self):
        if self.in_flight:
            return
        admitted, rejected, retracted = self.decisions()
        for cid, key in self.candidate_ids().items():
            decisions = admitted.get(cid, 0) + rejected.get(cid, 0)
            if key in self.model.ever_refused or self.model.status(*key, self.now) == "allowed":
                assert decisions == 1, (key, admitted.get(cid), rejected.get(cid))
            else:
                assert decisions == 0  # still held
            assert retracted.get(cid, 0) <= admitted.get(cid, 0)

    @invariant()
    def erased_media_is_gone_and_the_audit_chain_holds(self):
        erased = {m for msg in self.store.messages(MEDIA_ERASED.name)
                  for m in MediaErased.from_json(msg.payload).data.media_ids}
        assert erased == self.model.erased
        assert not any(m in erased for _, m in self.store.media)
        assert verify(self.store.audit).ok


GateMachine.TestCase.settings = settings(
    max_examples=1000, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGateRules = GateMachine.TestCase
