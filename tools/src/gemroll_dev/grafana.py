"""The Grafana dashboard: an overview row, then one row per service.

Generated into `deploy/grafana/gemroll.json` (import it, or let the Grafana sidecar pick up the
`gemroll-grafana-dashboard` ConfigMap) by `python -m gemroll_dev.k8s write`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SEL = 'namespace=~"$namespace"'
"""Every query is limited to the chosen namespaces."""


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]
    """(PromQL, legend) pairs."""
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 8
    description: str = ""
    thresholds: tuple[tuple[float, str], ...] = ()


def _rate(metric: str, by: str, extra: str = "") -> str:
    labels = f"{SEL}, {extra}" if extra else SEL
    return f"sum by ({by}) (rate({metric}{{{labels}}}[$__rate_interval]))"


def _quantile(q: float, metric: str, by: str, extra: str = "") -> str:
    labels = f"{SEL}, {extra}" if extra else SEL
    return (f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{{labels}}}[$__rate_interval])))")


NOT_PROBES = 'route!~"/healthz|/readyz|/metrics"'


def _service_common(service: str) -> list[Panel]:
    svc = f'service="{service}"'
    return [
        Panel("Events consumed by topic and outcome",
              ((_rate("gemroll_events_consumed_total", "topic, outcome", svc),
                "{{topic}} {{outcome}}"),), unit="ops"),
        Panel("Consumer lag by topic",
              ((f"sum by (topic) (gemroll_consumer_lag{{{SEL}, {svc}}})", "{{topic}}"),)),
        Panel("Processing time p95 by topic",
              ((_quantile(0.95, "gemroll_event_processing_seconds", "topic", svc), "{{topic}}"),),
              unit="s"),
    ]


def _http(service: str) -> list[Panel]:
    svc = f'service="{service}", {NOT_PROBES}'
    return [
        Panel("HTTP requests by route and status",
              ((_rate("gemroll_http_requests_total", "route, status", svc),
                "{{route}} {{status}}"),), unit="reqps"),
        Panel("HTTP latency p99 by route",
              ((_quantile(0.99, "gemroll_http_request_duration_seconds", "route", svc),
                "{{route}}"),), unit="s"),
    ]


def rows() -> list[tuple[str, list[Panel]]]:
    overview = [
        Panel("Targets up", ((f'up{{{SEL}, job=~"gemroll-.*"}}', "{{job}} {{instance}}"),),
              kind="stat", width=6, thresholds=((0, "red"), (1, "green"))),
        Panel("Events consumed by service",
              ((_rate("gemroll_events_consumed_total", "service"), "{{service}}"),),
              unit="ops", width=6),
        Panel("Consumer lag by service and topic",
              ((f"sum by (service, topic) (gemroll_consumer_lag{{{SEL}}})",
                "{{service}} {{topic}}"),), width=6),
        Panel("Dead letters by service and source topic",
              ((f"sum by (service, source_topic, error_type) "
                f"(increase(gemroll_dead_letters_total{{{SEL}}}[$__rate_interval]))",
                "{{service}} {{source_topic}} {{error_type}}"),), width=6),
        Panel("Events published by topic",
              ((_rate("gemroll_events_published_total", "topic"), "{{topic}}"),),
              unit="ops", width=12),
        Panel("HTTP 5xx ratio by service",
              ((_rate("gemroll_http_requests_total", "service", f'status=~"5..", {NOT_PROBES}')
                + " / " + _rate("gemroll_http_requests_total", "service", NOT_PROBES),
                "{{service}}"),), unit="percentunit", width=12),
    ]
    ingest = [
        *_http("ingest"),
        Panel("Upload bytes", ((f"sum(rate(gemroll_ingest_upload_bytes_total{{{SEL}}}"
                                f"[$__rate_interval]))", "bytes/s"),), unit="Bps"),
        Panel("Uploads by outcome",
              ((_rate("gemroll_ingest_uploads_total", "outcome"), "{{outcome}}"),), unit="ops"),
        Panel("Outbox pending",
              ((f'sum(gemroll_outbox_pending{{service="ingest", {SEL}}})', "pending"),),
              description="Accepted uploads whose MediaUploaded event is not yet on Kafka."),
        *_service_common("ingest")[:2],
    ]
    classifier = [
        Panel("Images per second by device and outcome",
              ((_rate("gemroll_classifier_images_total", "device, outcome"),
                "{{device}} {{outcome}}"),), unit="ops"),
        Panel("Batch size",
              ((f"sum(rate(gemroll_classifier_batch_size_sum{{{SEL}}}[$__rate_interval])) / "
                f"sum(rate(gemroll_classifier_batch_size_count{{{SEL}}}[$__rate_interval]))",
                "mean"),
               (_quantile(0.9, "gemroll_classifier_batch_size", "service"), "p90"))),
        Panel("Inference time p50 / p95",
              ((_quantile(0.5, "gemroll_classifier_inference_seconds", "service"), "p50"),
               (_quantile(0.95, "gemroll_classifier_inference_seconds", "service"), "p95")),
              unit="s"),
        Panel("Device", ((f"sum by (device) (gemroll_classifier_device_info{{{SEL}}})",
                          "{{device}}"),), kind="stat"),
        Panel("GPU utilisation (DCGM)",
              (('avg by (pod, gpu) (DCGM_FI_DEV_GPU_UTIL{container="classifier"})',
                "{{pod}} gpu {{gpu}}"),), unit="percent"),
        *_service_common("classifier"),
    ]
    suggester = [
        Panel("Suggestions by kind",
              ((_rate("gemroll_suggester_suggestions_total", "kind"), "{{kind}}"),), unit="ops"),
        Panel("Render time p95 by kind",
              ((_quantile(0.95, "gemroll_suggester_render_seconds", "kind"), "{{kind}}"),),
              unit="s"),
        *_http("suggester"),
        *_service_common("suggester"),
    ]
    policy = [
        Panel("Decisions by outcome and reason",
              ((_rate("gemroll_policy_decisions_total", "outcome, reason"),
                "{{outcome}} {{reason}}"),), unit="ops"),
        Panel("Retractions and erasures by reason",
              ((_rate("gemroll_policy_retractions_total", "reason"), "retracted {{reason}}"),
               (_rate("gemroll_policy_erasures_total", "reason"), "erased {{reason}}")),
              unit="ops"),
        Panel("Admissions without evidence (must stay 0)",
              ((f"sum(gemroll_policy_admissions_without_evidence_total{{{SEL}}}) or vector(0)",
                "total"),), kind="stat", thresholds=((0, "green"), (1, "red"))),
        Panel("Pending candidates", ((f"sum(gemroll_policy_pending_candidates{{{SEL}}})",
                                      "pending"),)),
        Panel("Consent store up", ((f"min(gemroll_policy_consent_store_up{{{SEL}}})", "up"),),
              kind="stat", thresholds=((0, "red"), (1, "green"))),
        *_http("policy"),
        *_service_common("policy"),
    ]
    return [("Overview", overview), ("ingest", ingest), ("classifier", classifier),
            ("suggester", suggester), ("policy", policy)]


def _panel_json(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    steps = [{"color": color, "value": None if i == 0 else value}
             for i, (value, color) in enumerate(panel.thresholds or ((0, "green"),))]
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit,
                                     "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
        if panel.kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
                     "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for i, (expr, legend) in enumerate(panel.exprs)],
    }


def dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for title, row_panels in rows():
        panels.append({"id": pid, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid, y, x = pid + 1, y + 1, 0
        for panel in row_panels:
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(_panel_json(panel, pid, x, y))
            pid, x = pid + 1, x + panel.width
        y += 8
    return {
        "uid": "gemroll-overview",
        "title": "gemroll",
        "description": "gemroll services: events, lag, dead letters, HTTP, and per-service "
                       "figures. Alerts and runbooks: docs/operate.md.",
        "tags": ["gemroll"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus",
             "label": "Data source", "current": {}},
            {"name": "namespace", "type": "query", "label": "Namespace",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(gemroll_service_info, namespace)",
                       "refId": "namespaces"},
             "definition": "label_values(gemroll_service_info, namespace)",
             "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
             "current": {}},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json() -> str:
    return json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"


def queries() -> list[str]:
    """Every PromQL expression of the dashboard, with Grafana's variables substituted."""
    found = []
    for _, row_panels in rows():
        for panel in row_panels:
            for expr, _legend in panel.exprs:
                found.append(expr.replace("$namespace", ".*").replace("$__rate_interval", "1m"))
    return found
