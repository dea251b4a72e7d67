"""Metrics of the policy service (bounded labels: outcomes and reasons are enums)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DECISIONS = Counter(
    "gemroll_policy_decisions_total",
    "Final decisions on training candidates (reason: the basis when admitted).",
    ["outcome", "reason"],
)
RETRACTIONS = Counter(
    "gemroll_policy_retractions_total", "Admitted items taken back, by reason.", ["reason"]
)
ERASURES = Counter(
    "gemroll_policy_erasures_total", "Media items erased, by reason.", ["reason"]
)
ADMISSIONS_WITHOUT_EVIDENCE = Counter(
    "gemroll_policy_admissions_without_evidence_total",
    "Admissions the gate refused because they carried no evidence. Must stay 0: alert on "
    "any increase.",
)
PENDING_CANDIDATES = Gauge(
    "gemroll_policy_pending_candidates", "Candidates held until a qualifying action arrives."
)
CONSENT_STORE_UP = Gauge(
    "gemroll_policy_consent_store_up",
    "1 when the consent store (PostgreSQL) answers; while 0 the gate admits nothing.",
)
GATE_FAILURES = Counter(
    "gemroll_policy_gate_failures_total",
    "Gate batches that failed and will be retried (nothing decided), by stage.",
    ["stage"],
)
GATE_BATCHES = Counter("gemroll_policy_gate_batches_total", "Gate batches committed.")
GATE_RELAY_LEADING = Gauge(
    "gemroll_policy_gate_relay_leading",
    "1 while this instance publishes the gate's outbox (one instance at a time).")
ERASURE_JOBS_FAILED = Counter(
    "gemroll_policy_erasure_job_failures_total", "Object-store erasure attempts that failed."
)
TRAINING_COPIES = Counter(
    "gemroll_policy_training_copies_total",
    "Metadata-free copies of admitted images to training keys (result: copied, failed (held "
    "and tried again), source_missing, source_unusable).",
    ["result"],
)
FORGED_EVENTS = Counter(
    "gemroll_policy_forged_events_total",
    "Candidates and actions refused (dead-lettered) because their producer may not send them "
    "or their object is not the candidate's own media. Alert on any increase.",
    ["topic"],
)
