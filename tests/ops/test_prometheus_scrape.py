"""A real Prometheus (Debian's package) scrapes the four services and finds the key series.

Each service is the one the local stack runs (its URL in `.run/stack.env`), or, when the stack
has none, one started here (uvicorn, on a free port) against the stack's Kafka, PostgreSQL
and S3, with its own topic suffix and schema. Prometheus loads gemroll's rules too, so the
recording rules are checked against the services' real label sets.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from gemroll_contracts import Service
from gemroll_dev import k8s
from gemroll_dev.ops_tools import prometheus
from gemroll_dev.stack.config import StackConfig, read_env_file
from gemroll_testkit import eventually
from gemroll_testkit.isolation import drop_isolated, isolate
from gemroll_testkit.processes import ServiceProcess, free_port, stop_all

# Starting four services and a Prometheus on two cores takes minutes.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "classifier", "suggester", "policy")
RULES = ROOT / "deploy/prometheus/rules/gemroll.rules.yml"
TOPIC_NAME = re.compile(r"^(.+?\.v\d+)(?:\..*)?$")
"""A topic's registry name, without a test run's suffix (`gemroll.media.uploaded.v1.t1a2b`)."""
STARTUP_S = 180.0
SERIES_S = 120.0

SHARED_SERIES = (
    'up{{job="gemroll-{svc}"}} == 1',
    'gemroll_service_info{{service="{svc}"}} == 1',
    'gemroll_http_requests_total{{service="{svc}", route="/healthz", status="200"}}',
    'gemroll_http_request_duration_seconds_count{{service="{svc}", route="/healthz"}}',
    'gemroll_consumer_lag{{service="{svc}"}}',
    'service_topic:gemroll_consumer_lag:sum{{service="{svc}"}}',  # a recording rule
    'process_resident_memory_bytes{{job="gemroll-{svc}"}}',
)
SERVICE_SERIES = {
    "ingest": ('gemroll_outbox_pending{service="ingest"}', "gemroll_ingest_upload_bytes_total"),
    "classifier": ("gemroll_classifier_device_info == 1",),
    "suggester": (),
    "policy": ("gemroll_policy_pending_candidates", "gemroll_policy_consent_store_up",
               "gemroll_policy_admissions_without_evidence_total == 0"),
}


async def healthy(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return (await client.get(f"{url}/healthz")).status_code == 200


@dataclass
class Target:
    service: str
    url: str
    process: ServiceProcess | None = None
    """Started here (None: the stack's)."""

    def log_tail(self) -> str:
        if self.process is None:
            return ""
        return f"--- {self.service} log ---\n" + self.process.tail(60)


def stack_urls() -> dict[str, str]:
    env_file = StackConfig.load().env_file
    recorded = read_env_file(env_file) if env_file.exists() else {}
    return {svc: recorded[f"{svc.upper()}_URL"] for svc in SERVICES
            if recorded.get(f"{svc.upper()}_URL")}


@pytest.fixture
async def targets(stack, unique, tmp_path) -> AsyncIterator[list[Target]]:
    """One running instance of every service (the stack's, or started here)."""
    found: list[Target] = []
    recorded = stack_urls()
    isolated = None
    try:
        for svc in SERVICES:
            url = recorded.get(svc)
            if url and await healthy(url):
                found.append(Target(svc, url))
                continue
            isolated = isolated or await isolate(stack, unique)
            env = {**isolated.as_env(), "PYTHONUNBUFFERED": "1",
                   f"GEMROLL_{svc.upper()}_DB_SCHEMA": f"{svc}{isolated.schema_suffix}"}
            process = ServiceProcess(svc, free_port(), env, tmp_path / f"{svc}.log", cwd=ROOT,
                                     ready_path="/healthz")
            process.start()
            found.append(Target(svc, process.url, process))
        for target in found:
            if target.process is not None:
                await target.process.wait_ready(STARTUP_S)
        yield found
    finally:
        stop_all(t.process for t in found if t.process is not None)
        if isolated is not None:
            await drop_isolated(isolated)


@pytest.fixture
async def prometheus_url(targets: list[Target], tmp_path) -> AsyncIterator[str]:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                   "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": f"gemroll-{t.service}", "metrics_path": "/metrics",
             "static_configs": [{"targets": [t.url.removeprefix("http://")]}]}
            for t in targets
        ],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    server = ServiceProcess(
        "prometheus", port, {}, tmp_path / "prometheus.log",
        argv=[str(prometheus()), f"--config.file={config_file}",
              f"--storage.tsdb.path={tmp_path / 'tsdb'}",
              f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        ready_path="/-/ready")
    server.start()
    try:
        await server.wait_ready(60)
        yield server.url
    finally:
        server.terminate(20)


async def query(url: str, promql: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{url}/api/v1/query", params={"query": promql})
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]["result"]


async def test_prometheus_scrapes_every_service(targets, prometheus_url):
    assert sorted(t.service for t in targets) == sorted(SERVICES)
    async with httpx.AsyncClient(timeout=5.0) as client:
        for target in targets:  # some traffic for the HTTP metrics
            for _ in range(3):
                await client.get(f"{target.url}/healthz")
            await client.get(f"{target.url}/readyz")

    expected = [(svc, s.format(svc=svc)) for svc in SERVICES for s in SHARED_SERIES]
    expected += [(svc, s) for svc in SERVICES for s in SERVICE_SERIES[svc]]
    for svc in SERVICES:  # the partitions KEDA scales on are assigned and measured
        (scale_on,) = [w.scale_on.name for w in k8s.service_workloads(Service(svc))
                       if w.scale_on is not None]
        expected.append((svc, f'gemroll_consumer_lag{{service="{svc}", topic=~"{scale_on}.*"}}'))
    pending = {promql: svc for svc, promql in expected}

    async def everything() -> bool:
        for promql in list(pending):
            if await query(prometheus_url, promql):
                del pending[promql]
        return not pending

    def report() -> str:
        return "missing series:\n" + "\n".join(f"  {svc}: {q}" for q, svc in pending.items()) \
            + "\n" + "\n".join(t.log_tail() for t in targets)

    await eventually(everything, "the key series in Prometheus", timeout_s=SERIES_S, every_s=0.5,
                     ignoring=(httpx.HTTPError, OSError), diagnostics=report)

    # The manifests' KafkaUsers may read every topic the services really consume.
    for svc in SERVICES:
        readable = {t.name for t in k8s.reads(Service(svc))}
        lag = await query(prometheus_url, f'gemroll_consumer_lag{{service="{svc}"}}')
        consumed = {TOPIC_NAME.match(s["metric"]["topic"]).group(1) for s in lag}
        assert consumed <= readable, f"{svc} consumes {consumed - readable} without a Read ACL"

    # Labels stay bounded: no series carries user keys, media ids, tokens or raw paths.
    series = await query(prometheus_url, '{__name__=~"gemroll_.+"}')
    assert series
    unbounded = re.compile(r"[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-|@")
    for sample in series:
        labels = sample["metric"]
        assert not {"user", "user_key", "account", "account_id", "media_id", "key",
                    "path", "url"} & set(labels), labels
        for name, value in labels.items():
            if name not in {"__name__", "instance", "job"}:
                assert not unbounded.search(value), (name, value)
