"""The classifier's own metrics (bounded labels: device is cpu|cuda, outcome a fixed set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BATCH_SIZE = Histogram(
    "gemroll_classifier_batch_size", "Records per micro-batch.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
IMAGES = Counter(
    "gemroll_classifier_images_total",
    "Media classified, by device and outcome (gem, not_gem, unreadable, missing).",
    ["device", "outcome"],
)
INFERENCE_SECONDS = Histogram(
    "gemroll_classifier_inference_seconds", "Image-model time per micro-batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEVICE_INFO = Gauge(
    "gemroll_classifier_device_info", "1 for the device the image model runs on.", ["device"],
)
