"""Long outages and hostile input under load: uploads go on while a malformed record lands in
every consumed topic, every PostgreSQL connection of the services is cut several times, the
PostgreSQL server is SIGKILLed (a failover: no shutdown, WAL replay on start), Kafka is down
for two minutes, and a second round of malformed records meets the backlog draining.

One scenario run per module (`outage_run`, `GEMROLL_RELIABILITY_OUTAGE_PHOTOS`, default 80;
`GEMROLL_RELIABILITY_KAFKA_OUTAGE_S`, default 120); each test checks one promise: the outbox
holds what was accepted while the broker was away, nothing is lost or doubled, each poison is
dead-lettered by each of its consumers with its reason, and nothing else is.
"""

from __future__ import annotations

import json
import os

import pytest
from gemroll_contracts import DEAD_LETTERS, SUBSCRIPTIONS, DeadLetter, parse_event
from gemroll_testkit.reliability.scenario import (
    POISON_KINDS,
    ScenarioConfig,
    ScenarioResult,
    poison_not_dead_lettered,
    run_scenario,
    unparsable_besides,
)
from pydantic import ValidationError

from .conftest import report_dir

PHOTOS = int(os.environ.get("GEMROLL_RELIABILITY_OUTAGE_PHOTOS", "80"))
KAFKA_OUTAGE_S = float(os.environ.get("GEMROLL_RELIABILITY_KAFKA_OUTAGE_S", "120"))
KAFKA_OUTAGE = f"outage:kafka:{KAFKA_OUTAGE_S:g}"
FAULTS = tuple(os.environ.get(
    "GEMROLL_RELIABILITY_OUTAGE_FAULTS",
    f"poison:consumed,cut:postgres,crash:postgres:3,{KAFKA_OUTAGE},poison:consumed").split(","))
"""The plan; the soak may give a longer one (e.g. outage:kafka:600)."""
CONSUMED_TOPICS = {s.topic.name for s in SUBSCRIPTIONS}

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.timeout(900 + PHOTOS + KAFKA_OUTAGE_S)]


@pytest.fixture(scope="module")
async def outage_run(pipeline, private, accounts) -> ScenarioResult:
    # Uploads spread over the whole fault plan (about 45 s plus the Kafka outage).
    rate = PHOTOS / ((KAFKA_OUTAGE_S if KAFKA_OUTAGE in FAULTS else 0.0) + 45.0)
    cfg = ScenarioConfig(photos=PHOTOS, users=4, rate=rate, concurrency=4, faults=FAULTS,
                         cut_bursts=5, cut_gap_s=1.0)
    result = await run_scenario(pipeline, private, cfg)
    accounts.update(u.account for u in result.users)
    summary = {
        "photos": PHOTOS, "kafka_outage_s": KAFKA_OUTAGE_S, "figures": result.audit.figures,
        "faults": [vars(f) for f in result.faults],
        "poisons": [vars(p) for p in result.poisons],
        "upload_seconds": round(result.upload_seconds, 1),
        "drain_seconds": round(result.drain_seconds, 1),
        "findings": [vars(f) for f in result.audit.findings],
    }
    (report_dir() / "outages.json").write_text(json.dumps(summary, indent=2, default=str))
    print(result.audit.summary())
    return result


def failed(result: ScenarioResult, prefix: str) -> list[str]:
    found = [f for f in result.audit.findings if f.check.startswith(prefix)]
    assert found, f"no check named {prefix!r}"
    return [f"{f.check}: {f.detail}" for f in found if not f.ok]


def fault(result: ScenarioResult, kind: str) -> list:
    return [f for f in result.faults if f.kind == kind]


def test_every_fault_was_applied(outage_run: ScenarioResult) -> None:
    assert [f.kind for f in outage_run.faults] == list(FAULTS)
    assert [(f.kind, f.error) for f in outage_run.faults if f.error] == []
    assert all(f.took_s >= KAFKA_OUTAGE_S for f in fault(outage_run, KAFKA_OUTAGE))
    for cut in fault(outage_run, "cut:postgres"):
        assert sum(cut.detail["connections_cut"].values()) > 0, "no service connection was cut"


def test_uploads_accepted_while_kafka_was_down(outage_run: ScenarioResult) -> None:
    """The ingest keeps accepting with the broker away: the outbox holds the announcements."""
    if KAFKA_OUTAGE not in FAULTS:
        pytest.skip(f"{KAFKA_OUTAGE} is not in this plan")
    kafka, = fault(outage_run, KAFKA_OUTAGE)
    during = [r for r in outage_run.driver.uploads if r.status == 201
              and kafka.wall_start < r.answered < kafka.wall_end]
    assert len(during) >= 10, f"only {len(during)} uploads accepted during the Kafka outage"
    assert kafka.detail["outbox_peak"].get("ingest", 0) > 0, kafka.detail


def test_every_accepted_upload_announced_and_classified_exactly_once(outage_run) -> None:
    assert outage_run.audit.figures["accepted_uploads"] >= PHOTOS
    assert failed(outage_run, "media.uploaded") == []
    assert failed(outage_run, "media.classified") == []
    assert failed(outage_run, "classifier store") == []
    assert failed(outage_run, "uploads: every answered") == []
    assert failed(outage_run, "uploads: every valid photo accepted") == []
    assert failed(outage_run, "uploads: every upload accounted for") == []


def test_every_intended_suggestion_exists_exactly_once(outage_run) -> None:
    assert failed(outage_run, "suggestions") == []


def test_training_topics_hold_exactly_what_the_policy_rules_allow(outage_run) -> None:
    assert outage_run.audit.figures["training_rejected"] > 0
    assert failed(outage_run, "training") == []


def test_every_poison_dead_lettered_by_each_consumer_with_its_reason(outage_run) -> None:
    poisons = outage_run.poisons
    assert {p.topic.rsplit(".r", 1)[0] for p in poisons} == CONSUMED_TOPICS
    rounds = FAULTS.count("poison:consumed")
    assert len(poisons) == rounds * len(POISON_KINDS) * len(CONSUMED_TOPICS)
    assert poison_not_dead_lettered(outage_run.snapshot, poisons) == []


def test_nothing_else_dead_lettered_or_malformed(outage_run: ScenarioResult) -> None:
    """No valid input dead-lettered; the poisons are the only records that are not events.
    (Dead letters written before the run are earlier modules' hostile records.)"""
    began = min(r.started for r in outage_run.driver.uploads)
    assert valid_dead_lettered_since(outage_run.snapshot, began) == []
    assert unparsable_besides(outage_run.snapshot, outage_run.poisons, began) == []


def valid_dead_lettered_since(snap, since: float) -> list[str]:  # noqa: ANN001
    found = []
    for record, letter in zip(snap.records[DEAD_LETTERS.name], snap.events[DEAD_LETTERS.name],
                              strict=True):
        if not isinstance(letter, DeadLetter) or record.timestamp_ms < since * 1000:
            continue
        try:
            parse_event(letter.data.original_value)
        except ValidationError:
            continue
        found.append(f"{letter.data.source_topic}@{letter.data.source_offset}: "
                     f"{letter.data.error[:200]}")
    return found


def test_services_recovered_without_manual_fix(outage_run) -> None:
    assert failed(outage_run, "services") == []


def test_outages_answer_503_never_500(outage_run) -> None:
    assert failed(outage_run, "uploads: no unexpected answer") == []
