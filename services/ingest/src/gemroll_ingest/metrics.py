"""The ingest service's own metrics (bounded labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

UPLOAD_BYTES = Counter(
    "gemroll_ingest_upload_bytes_total", "Bytes of accepted (newly stored) photos."
)
UPLOADS = Counter(
    "gemroll_ingest_uploads_total",
    "Upload attempts by outcome: accepted, duplicate, or rejected_<code>.",
    ["outcome"],
)
OUTBOX_PENDING = Gauge(
    "gemroll_ingest_outbox_pending", "Events in the outbox not yet published to Kafka."
)
OUTBOX_PUBLISHED = Counter(
    "gemroll_ingest_outbox_published_total", "Outbox events published to Kafka."
)
RELAY_FAILURES = Counter(
    "gemroll_ingest_outbox_relay_failures_total", "Failed outbox publish attempts (retried)."
)
