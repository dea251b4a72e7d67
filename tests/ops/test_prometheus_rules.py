"""The Prometheus rules pass `promtool check rules` and their unit tests, every alert is
tested and documented, and rules and dashboard only use metrics the services export."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from gemroll_dev import grafana
from gemroll_dev.ops_tools import catalog

# On a fresh machine the first test also downloads promtool.
pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/rules/gemroll.rules.yml"
RULE_TESTS = sorted((ROOT / "deploy/prometheus/tests").glob("*.yml"))
OPERATE = ROOT / "docs/operate.md"


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def alerts() -> list[dict]:
    return [r for r in rules() if "alert" in r]


def promtool_run(promtool: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_rules_pass_promtool_check(promtool):
    result = promtool_run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_rule_unit_tests_pass(promtool):
    assert RULE_TESTS, "no promtool unit tests in deploy/prometheus/tests"
    result = promtool_run(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(promtool, tmp_path):
    """The unit tests are real: an alert that should not fire makes promtool fail."""
    broken = tmp_path / "broken.test.yml"
    broken.write_text(yaml.safe_dump({
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{
                "series": 'gemroll_policy_admissions_without_evidence_total{service="policy"}',
                "values": "0 1 1 1"}],
            "alert_rule_test": [{"eval_time": "3m",
                                 "alertname": "GemrollAdmissionWithoutEvidence"}],
        }],
    }))
    result = promtool_run(promtool, "test", "rules", str(broken))
    assert result.returncode != 0
    assert "GemrollAdmissionWithoutEvidence" in result.stdout + result.stderr


def test_every_alert_has_a_firing_unit_test():
    fired: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    missing = {a["alert"] for a in alerts()} - fired
    assert not missing, f"alerts without a unit test that makes them fire: {sorted(missing)}"


def test_every_alert_is_actionable_and_documented():
    runbook = OPERATE.read_text()
    for alert in alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], name
        anchor = name.lower()
        assert annotations["runbook_url"] == f"docs/operate.md#{anchor}", name
        assert re.search(rf"^#+ {name}\b", runbook, re.MULTILINE), \
            f"docs/operate.md has no section for {name}"


def test_safety_alerts_exist_and_page():
    """Admitting training data without consent evidence must page at once."""
    by_name = {a["alert"]: a for a in alerts()}
    for name in ("GemrollAdmissionWithoutEvidence", "GemrollAdmittedWhileConsentStoreDown"):
        assert by_name[name]["labels"] == {"severity": "critical", "page": "true"}
        assert "for" not in by_name[name], f"{name} must fire without waiting"


def _metrics_in(expr: str) -> set[str]:
    names = set()
    for token in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if token.startswith(("gemroll_", "DCGM_")) or token == "up":
            names.add(token)
    return names


def _known_series() -> set[str]:
    known = set(catalog.EXTERNAL)
    for table in (catalog.SHARED, *catalog.PER_SERVICE.values()):
        for metric, (kind, _labels) in table.items():
            known |= catalog.series_names(metric, kind)
    return known


def test_rules_and_dashboard_use_only_exported_metrics():
    recorded = {r["record"] for r in rules() if "record" in r}
    known = _known_series()
    exprs = [r["expr"] for r in rules()] + grafana.queries()
    unknown = set().union(*(_metrics_in(e) for e in exprs)) - known - recorded
    assert not unknown, f"queries use metrics no service exports: {sorted(unknown)}"


def test_dashboard_queries_are_valid_promql(promtool, tmp_path):
    """Every dashboard query parses: promtool checks them as recording rules."""
    queries = grafana.queries()
    rules_file = tmp_path / "dashboard.rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)]}]}))
    result = promtool_run(promtool, "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_has_a_row_per_service():
    dashboard = grafana.dashboard()
    row_titles = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert row_titles == ["Overview", "ingest", "classifier", "suggester", "policy"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
