"""The ingest service's own metrics (bounded labels only). The outbox's are the runtime
kit's: `gemroll_outbox_pending{service="ingest"}` and friends."""

from __future__ import annotations

from prometheus_client import Counter

UPLOAD_BYTES = Counter(
    "gemroll_ingest_upload_bytes_total", "Bytes of accepted (newly stored) photos."
)
UPLOADS = Counter(
    "gemroll_ingest_uploads_total",
    "Upload attempts by outcome: accepted, duplicate, or rejected_<code>.",
    ["outcome"],
)
