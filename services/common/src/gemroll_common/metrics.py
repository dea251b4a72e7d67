"""Metrics every service exports, with stable names and bounded labels."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "gemroll_events_consumed_total",
    "Events consumed, by topic and outcome (ok, dead_lettered, retried).",
    ["service", "topic", "outcome"],
)
PROCESSING_SECONDS = Histogram(
    "gemroll_event_processing_seconds",
    "Time to process one consumed event (or one batch item).",
    ["service", "topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMER_LAG = Gauge(
    "gemroll_consumer_lag",
    "Records between the committed position and the end of each partition.",
    ["service", "topic", "partition"],
)
HTTP_REQUESTS = Counter(
    "gemroll_http_requests_total", "HTTP requests.", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "gemroll_http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SERVICE_INFO = Gauge("gemroll_service_info", "Build and runtime info.", ["service", "version"])


async def watch_consumer_lag(service: str, subscribers: Iterable[Any], every_s: float = 5) -> None:
    """Publish `gemroll_consumer_lag` for every assigned partition of FastStream subscribers."""
    subs = list(subscribers)
    while True:
        for sub in subs:
            consumer = getattr(sub, "consumer", None)
            if consumer is None:
                continue
            with contextlib.suppress(Exception):
                for tp in consumer.assignment():
                    end = consumer.highwater(tp)
                    if end is None:
                        continue
                    position = await consumer.position(TopicPartition(tp.topic, tp.partition))
                    CONSUMER_LAG.labels(service, tp.topic, str(tp.partition)).set(
                        max(0, end - position)
                    )
        await asyncio.sleep(every_s)
