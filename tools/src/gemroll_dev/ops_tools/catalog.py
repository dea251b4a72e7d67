"""The metrics gemroll's services export: what rules, dashboards and the scrape test rely on.

Names are stable; labels are bounded (no user keys, media ids or paths with ids).
"""

from __future__ import annotations

SHARED = {
    "gemroll_events_consumed_total": ("counter", ("service", "topic", "outcome")),
    "gemroll_events_published_total": ("counter", ("service", "topic", "event_type")),
    "gemroll_event_processing_seconds": ("histogram", ("service", "topic")),
    "gemroll_dead_letters_total": ("counter", ("service", "source_topic", "error_type")),
    "gemroll_consumer_lag": ("gauge", ("service", "topic", "partition")),
    "gemroll_http_requests_total": ("counter", ("service", "method", "route", "status")),
    "gemroll_http_request_duration_seconds": ("histogram", ("service", "method", "route")),
    "gemroll_service_info": ("gauge", ("service", "version")),
    # The transactional outbox (services that publish from a database transaction).
    "gemroll_outbox_pending": ("gauge", ("service",)),
    "gemroll_outbox_published_total": ("counter", ("service",)),
    "gemroll_outbox_relay_failures_total": ("counter", ("service",)),
}
PER_SERVICE = {
    "ingest": {
        "gemroll_ingest_upload_bytes_total": ("counter", ()),
        "gemroll_ingest_uploads_total": ("counter", ("outcome",)),
    },
    "classifier": {
        "gemroll_classifier_batch_size": ("histogram", ()),
        "gemroll_classifier_images_total": ("counter", ("device", "outcome")),
        "gemroll_classifier_inference_seconds": ("histogram", ()),
        "gemroll_classifier_device_info": ("gauge", ("device",)),
    },
    "suggester": {
        "gemroll_suggester_suggestions_total": ("counter", ("kind",)),
        "gemroll_suggester_render_seconds": ("histogram", ("kind",)),
    },
    "policy": {
        "gemroll_policy_decisions_total": ("counter", ("outcome", "reason")),
        "gemroll_policy_retractions_total": ("counter", ("reason",)),
        "gemroll_policy_erasures_total": ("counter", ("reason",)),
        "gemroll_policy_admissions_without_evidence_total": ("counter", ()),
        "gemroll_policy_pending_candidates": ("gauge", ()),
        "gemroll_policy_consent_store_up": ("gauge", ()),
    },
}
EXTERNAL = {"up", "DCGM_FI_DEV_GPU_UTIL"}
"""Series that Prometheus itself or the DCGM exporter provide."""


def all_metric_names() -> set[str]:
    names = set(SHARED)
    for metrics in PER_SERVICE.values():
        names |= set(metrics)
    return names


def series_names(metric: str, kind: str) -> set[str]:
    """The sample names a metric of `kind` appears as in queries."""
    if kind == "histogram":
        return {f"{metric}_bucket", f"{metric}_sum", f"{metric}_count"}
    return {metric}
