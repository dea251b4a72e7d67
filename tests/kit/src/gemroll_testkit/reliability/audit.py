"""Read every topic back and check the pipeline's promises against what the users were told.

Each check gives a `Finding` (name, ok, detail); `Audit.failures()` lists the broken ones.
The checks, in the issue's words:

* every accepted upload announced and classified exactly once (by media id; a redelivered
  record must be the very same event, same event id, never a second verdict);
* every intended suggestion exists exactly once (by suggestion id, latest revision), the same
  as the suggester's store says;
* the training topics hold exactly what the policy rules allow, each decision once;
* no valid input sits in the dead-letter topic.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gemroll_contracts import (
    ALL_TOPICS,
    CONSENT,
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_UPLOADED,
    SUGGESTIONS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    ConsentChanged,
    DeadLetter,
    MediaClassified,
    MediaUploaded,
    SuggestionCreated,
    TrainingAdmitted,
    TrainingCandidate,
    TrainingRejected,
    TrainingRetracted,
    UserAction,
    parse_event,
)
from pydantic import ValidationError

from ..topics import Record, read_records
from .services import PipelineConfig


@dataclass
class Snapshot:
    """Every record of every topic, raw and parsed (None where a record is not an event)."""

    records: dict[str, list[Record]]
    events: dict[str, list[Any]]

    def of(self, topic_name: str, kind: type) -> list[Any]:
        return [e for e in self.events[topic_name] if isinstance(e, kind)]

    def only(self, user_keys: set[str], training_id: Callable[[str], str]) -> Snapshot:
        """The records of these users (a run sharing its topics with earlier runs). Training
        decisions follow their candidates (`training_id`: a candidate id as the opaque id the
        training topics carry); dead letters and unparsable records all stay."""
        candidates = {training_id(str(e.data.candidate_id))
                      for e in self.of(TRAINING_CANDIDATES.name, TrainingCandidate)
                      if e.data.user_key in user_keys}

        def mine(event: Any) -> bool:
            if event is None or isinstance(event, DeadLetter):
                return True
            if isinstance(event, TrainingAdmitted | TrainingRejected | TrainingRetracted):
                return str(event.data.candidate_id) in candidates
            return getattr(event.data, "user_key", None) in user_keys

        records, events = {}, {}
        for name in self.records:
            kept = [(r, e) for r, e in zip(self.records[name], self.events[name], strict=True)
                    if mine(e)]
            records[name] = [r for r, _ in kept]
            events[name] = [e for _, e in kept]
        return Snapshot(records, events)


async def snapshot(cfg: PipelineConfig) -> Snapshot:
    names = [t.name for t in ALL_TOPICS]
    read = await asyncio.gather(*(read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(t))
                                  for t in ALL_TOPICS))
    records = dict(zip(names, read, strict=True))
    events: dict[str, list[Any]] = {}
    for name, recs in records.items():
        parsed = []
        for r in recs:
            try:
                parsed.append(parse_event(r.value))
            except ValidationError:
                parsed.append(None)
        events[name] = parsed
    return Snapshot(records, events)


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


@dataclass
class Audit:
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(name, ok, detail))

    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def summary(self) -> str:
        return "\n".join(f"[{'ok' if f.ok else 'FAIL'}] {f.check}: {f.detail}"
                         for f in self.findings)


@dataclass
class Expectations:
    """What the users did, as the driver recorded it."""

    accepted: dict[str, str]
    """media id -> user key, for every upload answered 200/201 (or listed by the ingest)."""
    day_of: dict[str, tuple[str, int]]
    """media id -> (user key, day of the roll): the events the suggester should find."""
    training_opt_out: set[str]
    """User keys that opted out of training."""
    api_suggestions: dict[str, dict[str, Any]]
    """suggestion id -> the suggester API's view (GET /v1/suggestions, every status)."""
    classifier_rows: int | None = None
    """Rows of the classifier's store for the accepted media (None: not checked)."""
    training_id: Callable[[str], str] | None = None
    """A candidate id as the training topics carry it (opaque; needs the pseudonym secret)."""
    highlight_min: int = 3
    collage_min: int = 2
    edits_per_event: int = 2


def _short(items: Any, n: int = 5) -> str:
    items = list(items)
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(str(i) for i in items[:n]) + more


def check_exactly_once(audit: Audit, name: str, events: list[Any], accepted: set[str]) -> None:
    """Each accepted media id has exactly one event (redeliveries must repeat its event id)."""
    by_media: dict[str, set[str]] = defaultdict(set)
    for e in events:
        by_media[str(e.data.media_id)].add(str(e.event_id))
    seen = set(by_media)
    missing, extra = accepted - seen, seen - accepted
    conflicting = {m for m, ids in by_media.items() if len(ids) > 1}
    repeats = len(events) - len(seen)
    audit.figures[f"{name}_records"] = len(events)
    audit.figures[f"{name}_distinct_media"] = len(seen)
    audit.figures[f"{name}_redelivered_records"] = repeats
    audit.check(f"{name}: every accepted upload", not missing,
                f"{len(seen & accepted)}/{len(accepted)} present; missing: {_short(missing)}")
    audit.check(f"{name}: nothing but accepted uploads", not extra,
                f"{len(extra)} unknown media ids: {_short(extra)}")
    audit.check(f"{name}: exactly once", not conflicting,
                f"{len(conflicting)} media with more than one distinct event "
                f"({repeats} redelivered copies of the same event): {_short(conflicting)}")


def check_suggestions(audit: Audit, snap: Snapshot, exp: Expectations,
                      classified: dict[str, MediaClassified]) -> None:
    events: list[SuggestionCreated] = snap.of(SUGGESTIONS.name, SuggestionCreated)
    by_revision: dict[tuple[str, int], set[str]] = defaultdict(set)
    latest: dict[str, SuggestionCreated] = {}
    for e in events:
        d = e.data
        body = d.model_dump_json(exclude={"created_at"})
        by_revision[(str(d.suggestion_id), d.revision)].add(body)
        current = latest.get(str(d.suggestion_id))
        if current is None or d.revision > current.data.revision:
            latest[str(d.suggestion_id)] = e
    conflicting = [k for k, bodies in by_revision.items() if len(bodies) > 1]
    audit.figures["suggestion_records"] = len(events)
    audit.figures["suggestions"] = len(latest)
    audit.figures["suggestions_by_kind"] = dict(Counter(e.data.kind.value
                                                        for e in latest.values()))
    audit.check("suggestions: one content per (id, revision)", not conflicting,
                f"{len(conflicting)} revisions published with different content: "
                f"{_short(conflicting)}")

    # Topic and store agree: every stored suggestion published, at its latest revision.
    api = exp.api_suggestions
    unpublished = set(api) - set(latest)
    unstored = set(latest) - set(api)
    stale = [sid for sid in set(api) & set(latest)
             if api[sid]["revision"] != latest[sid].data.revision
             or sorted(api[sid]["media_ids"]) != sorted(map(str, latest[sid].data.media_ids))]
    audit.check("suggestions: the store's are all published", not unpublished,
                f"{len(unpublished)} stored but never published: {_short(unpublished)}")
    audit.check("suggestions: every published one is stored", not unstored,
                f"{len(unstored)} published but unknown to the API: {_short(unstored)}")
    audit.check("suggestions: the topic's latest revision is the store's", not stale,
                f"{len(stale)} differ: {_short(stale)}")

    # Exactly once per event (highlight, collage) and per photo (edit); only gems, one event.
    live = {sid: e for sid, e in latest.items()
            if api.get(sid, {}).get("status") != "withdrawn"}
    per_event: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    edits_per_media: Counter[str] = Counter()
    mixed, non_gems = [], []
    for sid, e in live.items():
        days = {exp.day_of.get(str(m)) for m in e.data.media_ids}
        if len(days) != 1 or None in days:
            mixed.append(sid)
            continue
        (user, day), = days
        per_event[(user, day, e.data.kind.value)].append(sid)
        if e.data.kind.value == "edit":
            edits_per_media[str(e.data.media_ids[0])] += 1
        if any(not (c := classified.get(str(m))) or not c.data.is_gem for m in e.data.media_ids):
            non_gems.append(sid)
    audit.check("suggestions: each within one event of its user", not mixed,
                f"{len(mixed)} span events or unknown media: {_short(mixed)}")
    audit.check("suggestions: only gems", not non_gems, f"{len(non_gems)}: {_short(non_gems)}")
    dup_multi = {k: v for k, v in per_event.items() if k[2] != "edit" and len(v) > 1}
    audit.check("suggestions: at most one highlight and one collage per event", not dup_multi,
                f"{len(dup_multi)} events with duplicates: {_short(dup_multi.items())}")
    dup_edits = [m for m, n in edits_per_media.items() if n > 1]
    # Edits the user acted on stay; the proposed ones are the planner's current top picks.
    too_many = {k: len(v) for k, v in per_event.items()
                if k[2] == "edit" and sum(1 for sid in v if api[sid]["status"] == "proposed")
                > exp.edits_per_event}
    audit.check("suggestions: at most one edit per photo", not dup_edits, _short(dup_edits))
    audit.check("suggestions: proposed edits per event within the limit", not too_many,
                _short(too_many))

    # Intended: an event with enough shareable gems (best of their burst) gets its highlight
    # and its collage. A gem without an NSFW score counts as shareable: the classifier leaves
    # the score out exactly where nudity is impossible (too few skin-tone pixels).
    gems_per_event: Counter[tuple[str, int]] = Counter()
    for media_id, c in classified.items():
        where = exp.day_of.get(media_id)
        if where and c.data.is_gem and c.data.is_best_in_group and (c.data.nsfw_score or 0) < 0.5:
            gems_per_event[where] += 1
    missing = []
    for (user, day), gems in gems_per_event.items():
        for kind, minimum in (("highlight", exp.highlight_min), ("collage", exp.collage_min)):
            if gems >= minimum and not per_event.get((user, day, kind)):
                missing.append((user[:8], day, kind, gems))
    audit.figures["events_with_gems"] = len(gems_per_event)
    audit.check("suggestions: every intended highlight and collage exists", not missing,
                f"{len(missing)} missing (user, day, kind, gems): {_short(missing)}")


def check_training(audit: Audit, snap: Snapshot, exp: Expectations) -> dict[str, set[str]]:
    """The policy's rules applied to its own inputs (consent, actions, candidates)."""
    consent: dict[str, ConsentChanged] = {}
    for c in snap.of(CONSENT.name, ConsentChanged):
        prev = consent.get(c.data.user_key)
        if prev is None or c.data.ledger_seq > prev.data.ledger_seq:
            consent[c.data.user_key] = c
    actions: dict[str, list[UserAction]] = defaultdict(list)
    for a in snap.of(USER_ACTIONS.name, UserAction):
        actions[str(a.data.media_id)].append(a)
    candidates: dict[str, TrainingCandidate] = {}
    for c in snap.of(TRAINING_CANDIDATES.name, TrainingCandidate):
        candidates.setdefault(str(c.data.candidate_id), c)

    admit, reject = set(), set()
    for cid, c in candidates.items():
        state = consent.get(c.data.user_key)
        if state is None or not state.data.camera_roll or state.data.training_opt_out:
            reject.add(cid)
            continue
        kinds = [a.data.action for a in sorted(actions[str(c.data.media_id)],
                                               key=lambda a: a.data.acted_at)]
        if ActionKind.media_deleted in kinds:
            reject.add(cid)
            continue
        last_unshare = max((i for i, k in enumerate(kinds) if k is ActionKind.unshared),
                           default=-1)
        if ActionKind.edited_with_ai in kinds or ActionKind.shared in kinds[last_unshare + 1:]:
            admit.add(cid)  # an unshare takes back shares, not AI edits

    assert exp.training_id is not None, "training ids are opaque: give Expectations.training_id"
    admit, reject = {exp.training_id(c) for c in admit}, {exp.training_id(c) for c in reject}
    admitted = snap.of(TRAINING_MEDIA.name, TrainingAdmitted)
    retracted = snap.of(TRAINING_MEDIA.name, TrainingRetracted)
    rejected = snap.of(TRAINING_DECISIONS.name, TrainingRejected)
    admitted_ids = Counter(str(a.data.candidate_id) for a in admitted)
    rejected_ids = Counter(str(r.data.candidate_id) for r in rejected)
    audit.figures.update(training_candidates=len(candidates), training_expected_admitted=len(admit),
                         training_admitted=len(admitted_ids), training_rejected=len(rejected_ids),
                         training_retracted=len(retracted))
    audit.check("training: admitted exactly what the rules allow",
                set(admitted_ids) == admit,
                f"expected {len(admit)}, admitted {len(admitted_ids)}; missing: "
                f"{_short(admit - set(admitted_ids))}; not allowed: "
                f"{_short(set(admitted_ids) - admit)}")
    twice = [c for c, n in (admitted_ids + rejected_ids).items() if n > 1]
    audit.check("training: each candidate decided at most once", not twice,
                f"{len(twice)} decided more than once: {_short(twice)}")
    audit.check("training: rejected exactly the opted-out users' candidates",
                set(rejected_ids) == reject,
                f"expected {len(reject)}, rejected {len(rejected_ids)}")
    audit.check("training: nothing retracted (nobody took anything back)", not retracted,
                f"{len(retracted)} retractions")
    evidence_ok = all(a.data.evidence for a in admitted)
    audit.check("training: every admission carries evidence", evidence_ok, "")
    return {"admit": admit, "reject": reject}


def check_dead_letters(audit: Audit, snap: Snapshot) -> list[DeadLetter]:
    letters: list[DeadLetter] = snap.of(DEAD_LETTERS.name, DeadLetter)
    valid = []
    for letter in letters:
        try:
            parse_event(letter.data.original_value)
            valid.append(f"{letter.data.source_topic}@{letter.data.source_offset}: "
                         f"{letter.data.error_type}: {letter.data.error[:200]}")
        except ValidationError:
            pass
    audit.figures["dead_letters"] = len(letters)
    audit.check("dead letters: no valid input dead-lettered", not valid,
                f"{len(valid)} valid events dead-lettered: {_short(valid, 3)}")
    return letters


def audit_pipeline(snap: Snapshot, exp: Expectations) -> Audit:
    audit = Audit()
    accepted = set(exp.accepted)
    audit.figures["accepted_uploads"] = len(accepted)
    check_exactly_once(audit, "media.uploaded", snap.of(MEDIA_UPLOADED.name, MediaUploaded),
                       accepted)
    classified_events: list[MediaClassified] = snap.of(MEDIA_CLASSIFIED.name, MediaClassified)
    check_exactly_once(audit, "media.classified", classified_events, accepted)
    if exp.classifier_rows is not None:
        audit.check("classifier store: one row per accepted upload",
                    exp.classifier_rows == len(accepted),
                    f"{exp.classifier_rows} rows for {len(accepted)} uploads")
    classified = {str(e.data.media_id): e for e in classified_events}
    audit.figures["gems"] = sum(1 for e in classified.values() if e.data.is_gem)
    audit.figures["gems_without_nsfw_score"] = sum(
        1 for e in classified.values() if e.data.is_gem and e.data.nsfw_score is None)
    per_source = Counter((c.data.source.value, str(c.data.media_id))
                         for c in snap.of(TRAINING_CANDIDATES.name, TrainingCandidate))
    from_classifier = {m for (s, m) in per_source if s == "classifier"}
    audit.check("training candidates: one per classified upload", from_classifier == accepted,
                f"{len(from_classifier)} for {len(accepted)} uploads")
    check_suggestions(audit, snap, exp, classified)
    check_training(audit, snap, exp)
    check_dead_letters(audit, snap)
    unparsable = {name: sum(1 for e in evs if e is None) for name, evs in snap.events.items()
                  if name != DEAD_LETTERS.name and any(e is None for e in evs)}
    audit.check("every record on every topic is a valid contract event", not unparsable,
                str(unparsable))
    return audit
