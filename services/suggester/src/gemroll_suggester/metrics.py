"""The suggester's metrics (bounded labels: kind, action, outcome); the outbox's are the
common `gemroll_outbox_*{service="suggester"}`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SUGGESTIONS_MADE = Counter(
    "gemroll_suggester_suggestions_total", "New suggestions made (revision 1).", ["kind"]
)
REVISIONS = Counter(
    "gemroll_suggester_revisions_total", "Suggestions revised (late photos, removed photos).",
    ["kind"],
)
RENDER_SECONDS = Histogram(
    "gemroll_suggester_render_seconds", "Time to render one preview or rendition.", ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PLAN_SECONDS = Histogram(
    "gemroll_suggester_plan_seconds", "Time to plan one event (load, analyse, render, commit).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OPEN_EVENTS = Gauge(
    "gemroll_suggester_open_events", "Events waiting for their quiet period or a re-plan."
)
ACTIONS = Counter(
    "gemroll_suggester_actions_total", "User actions on suggestions.", ["action", "outcome"]
)
CLASSIFIED = Counter(
    "gemroll_suggester_media_total", "MediaClassified events by what became of them.", ["outcome"]
)
PLANNING_FAILURES = Counter(
    "gemroll_suggester_planning_failures_total", "Event plans that failed and were retried."
)
