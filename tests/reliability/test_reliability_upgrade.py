"""Rolling upgrade: while users upload and act, each service in turn is restarted on the next
version of the contracts (a compatible change: a new optional field in the data of the events
it publishes, see `gemroll_testkit.reliability.upgrade`), then back on the tree's version.
The services on the old contracts must take the new records, a plain subscriber that never
upgrades reads the whole public topic, nothing is refused, lost or dead-lettered.

The next version is a patched copy of the contracts package put first on the service's
PYTHONPATH; the tree's `contracts/` is never edited.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
from gemroll_contracts import DEAD_LETTERS, SUGGESTIONS, DeadLetter
from gemroll_testkit import eventually
from gemroll_testkit.reliability.scenario import (
    ScenarioConfig,
    ScenarioResult,
    run_scenario,
    unparsable_besides,
)
from gemroll_testkit.reliability.services import SERVICES, Pipeline
from gemroll_testkit.reliability.upgrade import (
    NEXT_FIELD,
    PublicReader,
    carries_next_field,
    imports_next,
    next_build_env,
    next_contracts,
    next_sample_events,
    refused_by_this_process,
)
from gemroll_testkit.topics import read_records

from .conftest import report_dir

PHOTOS = int(os.environ.get("GEMROLL_RELIABILITY_UPGRADE_PHOTOS", "60"))
ORDER = ("policy", "suggester", "ingest", "classifier")
"""The classifier last: it is slow to start, and the uploads queued meanwhile are what its
next version classifies; the others need uploads flowing while they run the next version."""
ROLLS = tuple(f"roll:{s}:{build}" for s in ORDER for build in ("next", "tree"))

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900 + PHOTOS)]


@pytest.fixture(scope="module")
def next_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = next_build_env(next_contracts(tmp_path_factory.mktemp("contracts-next")))
    assert imports_next(env), "the next build does not import the patched contracts"
    return env


def test_old_contracts_read_records_of_the_next_version(next_env) -> None:
    """The promise of a compatible change, without infrastructure: a record written on the
    next contracts is read by this process's (the old) contracts (finding 15 of
    docs/reliability.md: they used to refuse unknown fields)."""
    records = next_sample_events(next_env)
    assert sum(map(carries_next_field, records)) >= 5, "the next build wrote no new field"
    assert refused_by_this_process(records) == []


@pytest.fixture(scope="module")
async def upgrade_run(pipeline: Pipeline, private, accounts, next_env
                      ) -> tuple[ScenarioResult, PublicReader, datetime]:
    pipeline.builds["next"] = next_env
    cfg = pipeline.config
    began = datetime.now(UTC)
    reader = PublicReader(cfg.endpoints.kafka_bootstrap, cfg.topic(SUGGESTIONS),
                          f"old-contract-reader{cfg.suffix}")
    async with reader:
        scenario = ScenarioConfig(photos=PHOTOS, users=4, rate=0.5, concurrency=4, faults=ROLLS,
                                  first_fault_s=3.0, fault_gap_s=5.0)
        result = await run_scenario(pipeline, None, scenario)
        public = len(await read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(SUGGESTIONS)))

        async def caught_up() -> bool:
            return reader.read >= public

        await eventually(caught_up, "the old-contract reader at the end of the public topic",
                         timeout_s=60)
    accounts.update(u.account for u in result.users)
    (report_dir() / "upgrade.json").write_text(json.dumps({
        "photos": PHOTOS, "figures": result.audit.figures,
        "rolls": [vars(f) for f in result.faults],
        "public_reader": {"read": reader.read, "with_next_field": reader.with_next_field,
                          "refused": reader.refused[:20]},
        "next_field_by_producer": next_field_by_producer(result),
        "findings": [vars(f) for f in result.audit.findings],
    }, indent=2, default=str))
    print(result.audit.summary())
    return result, reader, began


def next_field_by_producer(result: ScenarioResult) -> dict[str, int]:
    """Records carrying the new field, by the service that wrote them."""
    found: dict[str, int] = {}
    for records in result.snapshot.records.values():
        for r in records:
            if carries_next_field(r.value):
                producer = json.loads(r.value)["producer"]
                found[producer] = found.get(producer, 0) + 1
    return found


def failed(result: ScenarioResult, prefix: str) -> list[str]:
    found = [f for f in result.audit.findings if f.check.startswith(prefix)]
    assert found, f"no check named {prefix!r}"
    return [f"{f.check}: {f.detail}" for f in found if not f.ok]


def test_every_roll_applied_and_ready(upgrade_run) -> None:
    result, _, _ = upgrade_run
    assert [f.kind for f in result.faults] == list(ROLLS)
    assert [(f.kind, f.error) for f in result.faults if f.error] == []


def test_each_service_really_ran_the_next_version(upgrade_run) -> None:
    """Its records carry the new field (it imported the patched contracts)."""
    result, _, _ = upgrade_run
    assert set(next_field_by_producer(result)) == set(SERVICES), NEXT_FIELD


def test_every_accepted_upload_announced_and_classified_exactly_once(upgrade_run) -> None:
    result, _, _ = upgrade_run
    assert result.audit.figures["accepted_uploads"] >= PHOTOS
    for prefix in ("media.uploaded", "media.classified", "classifier store",
                   "uploads: every answered", "uploads: every valid photo accepted"):
        assert failed(result, prefix) == []


def test_suggestions_and_training_exact(upgrade_run) -> None:
    result, _, _ = upgrade_run
    assert failed(result, "suggestions") == []
    assert failed(result, "training") == []


def test_nothing_refused_or_dead_lettered(upgrade_run) -> None:
    result, _, began = upgrade_run
    letters = [d for d in result.snapshot.of(DEAD_LETTERS.name, DeadLetter)
               if d.occurred_at >= began]
    assert [f"{d.producer}: {d.data.source_topic}: {d.data.error[:120]}" for d in letters] == []
    assert unparsable_besides(result.snapshot, [], began.timestamp()) == []
    assert failed(result, "uploads: no unexpected answer") == []


def test_a_subscriber_on_the_old_contracts_reads_the_whole_public_topic(upgrade_run) -> None:
    _, reader, _ = upgrade_run
    assert reader.refused == []
    assert reader.with_next_field > 0, "no suggestion of the next version reached it"


def test_services_ready_on_the_tree_version_at_the_end(upgrade_run, pipeline) -> None:
    result, _, _ = upgrade_run
    assert failed(result, "services") == []
    assert all(pipeline.build_of.get(s) is None for s in SERVICES), pipeline.build_of
