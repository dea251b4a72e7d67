"""Faults during an upload: SIGKILL and restart each service in turn, restart the Kafka broker,
stop PostgreSQL for 10 s, stop S3 for 10 s — then read every topic and store back.

One scenario run per module (`fault_run`); each test checks one promise of the audit. The
uploads (`GEMROLL_RELIABILITY_PHOTOS`, default 200, 8 users, 5 photos a day) go on through the
faults; the users share highlights, apply AI edits and save collages as suggestions appear; the
first user opted out of training. A supervisor restarts a process that exits on its own (as
Kubernetes would) and counts it; nobody resets offsets, rows or objects by hand.
"""

from __future__ import annotations

import json

import pytest
from gemroll_testkit.reliability.scenario import (
    ALL_FAULTS,
    ScenarioConfig,
    ScenarioResult,
    run_scenario,
)

from .conftest import PHOTOS, report_dir

# The first test also starts the private stack and the services, then runs the scenario.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900 + PHOTOS)]


@pytest.fixture(scope="module")
async def fault_run(pipeline, private, accounts) -> ScenarioResult:
    cfg = ScenarioConfig(photos=PHOTOS, users=8, rate=max(1.0, PHOTOS / 80), concurrency=4,
                         faults=ALL_FAULTS, outage_s=10.0)
    result = await run_scenario(pipeline, private, cfg)
    accounts.update(u.account for u in result.users)
    summary = {
        "photos": PHOTOS, "figures": result.audit.figures,
        "faults": [vars(f) for f in result.faults],
        "upload_seconds": round(result.upload_seconds, 1),
        "drain_seconds": round(result.drain_seconds, 1),
        "findings": [vars(f) for f in result.audit.findings],
    }
    (report_dir() / "faults.json").write_text(json.dumps(summary, indent=2, default=str))
    print(result.audit.summary())
    return result


def failed(result: ScenarioResult, prefix: str) -> list[str]:
    found = [f for f in result.audit.findings if f.check.startswith(prefix)]
    assert found, f"no check named {prefix!r}"
    return [f"{f.check}: {f.detail}" for f in found if not f.ok]


def test_every_fault_was_applied(fault_run: ScenarioResult) -> None:
    assert [f.kind for f in fault_run.faults] == list(ALL_FAULTS)
    assert [f for f in fault_run.faults if f.error] == []
    outages = {f.kind: f.took_s for f in fault_run.faults if f.kind.startswith("outage:")}
    assert all(took >= 10.0 for took in outages.values()), outages


def test_every_accepted_upload_announced_and_classified_exactly_once(fault_run) -> None:
    assert fault_run.audit.figures["accepted_uploads"] >= PHOTOS
    assert failed(fault_run, "media.uploaded") == []
    assert failed(fault_run, "media.classified") == []
    assert failed(fault_run, "classifier store") == []
    assert failed(fault_run, "uploads: every answered") == []
    assert failed(fault_run, "uploads: every valid photo accepted") == []
    assert failed(fault_run, "uploads: every upload accounted for") == []


def test_every_intended_suggestion_exists_exactly_once(fault_run) -> None:
    assert fault_run.audit.figures["suggestions"] > 0
    assert failed(fault_run, "suggestions") == []


def test_training_topics_hold_exactly_what_the_policy_rules_allow(fault_run) -> None:
    figures = fault_run.audit.figures
    assert figures["training_expected_admitted"] > 0 and figures["training_rejected"] > 0
    assert failed(fault_run, "training") == []


def test_no_valid_input_in_the_dead_letter_topic(fault_run) -> None:
    assert failed(fault_run, "dead letters") == []
    assert failed(fault_run, "every record on every topic") == []


def test_services_recovered_without_manual_fix(fault_run) -> None:
    """All running and ready, every consumer caught up (the drain waited for lag 0)."""
    assert failed(fault_run, "services") == []


def test_outages_answer_503_never_500(fault_run) -> None:
    """While PostgreSQL or S3 is down, the APIs say 503 (retry later), not 500."""
    assert failed(fault_run, "uploads: no unexpected answer") == []
