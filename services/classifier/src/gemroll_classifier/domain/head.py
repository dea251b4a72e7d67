"""A small trained head: multinomial logistic regression over the embedding and the
explainable features, predicting photo / screenshot / document.

The weights are a small `.npz` in the package, produced by
`python -m gemroll_classifier.train_head` from the project's own sample roll. The scorer uses
the head as one more piece of evidence, with its own reason code (`head:<class>`), next to the
rules; it never decides alone against strong rule evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import MediaFacts, ModelSignals, PixelStats
from .screens import is_screen_size

CLASSES = ("photo", "screenshot", "document")
FEATURE_NAMES = (
    "screen_size", "camera", "capture_exif", "png", "flat", "palette", "paper", "edges",
    "colorfulness", "log_laplacian", "brightness", "contrast", "noise", "screen_family",
    "document_family", "aspect",
)


def features(facts: MediaFacts, stats: PixelStats, signals: ModelSignals | None) -> np.ndarray:
    fam = signals.families if signals else {}
    aspect = max(facts.width, facts.height) / max(1, min(facts.width, facts.height))
    return np.array([
        float(is_screen_size(facts.width, facts.height)), float(facts.has_camera),
        float(facts.has_capture_exif), float(facts.file_format == "PNG"), stats.flat_fraction,
        stats.palette_fraction, stats.paper_fraction, stats.edge_density * 10,
        stats.colorfulness / 100, math.log10(max(stats.laplacian_var, 1.0)), stats.brightness,
        stats.contrast, stats.noise_sigma / 10, fam.get("screen", 0.0),
        fam.get("document", 0.0), min(aspect, 4.0) / 4,
    ], dtype=np.float32)


def head_input(facts: MediaFacts, stats: PixelStats, signals: ModelSignals | None,
               embedding: np.ndarray) -> np.ndarray:
    return np.concatenate([features(facts, stats, signals), embedding.astype(np.float32)])


@dataclass(frozen=True)
class Head:
    weights: np.ndarray  # C x F
    bias: np.ndarray  # C
    mean: np.ndarray  # F
    scale: np.ndarray  # F
    version: str

    def probabilities(self, x: np.ndarray) -> dict[str, float]:
        z = (x - self.mean) / self.scale
        logits = self.weights @ z + self.bias
        e = np.exp(logits - logits.max())
        p = e / e.sum()
        return {c: float(v) for c, v in zip(CLASSES, p, strict=True)}

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32), mean=self.mean.astype(np.float32),
                            scale=self.scale.astype(np.float32), version=np.array(self.version))

    @classmethod
    def load(cls, path: Path) -> Head:
        with np.load(path) as data:
            return cls(weights=data["weights"], bias=data["bias"], mean=data["mean"],
                       scale=data["scale"], version=str(data["version"]))


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, steps: int = 600,
        lr: float = 0.5, version: str = "head") -> Head:
    """Softmax regression by full-batch gradient descent (small data: a few hundred rows)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    n, f = z.shape
    k = len(CLASSES)
    w = np.zeros((k, f), np.float64)
    b = np.zeros(k, np.float64)
    onehot = np.eye(k)[y]
    for _ in range(steps):
        logits = z @ w.T + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = p - onehot
        w -= lr * (grad.T @ z / n + l2 * w)
        b -= lr * grad.mean(axis=0)
    return Head(weights=w.astype(np.float32), bias=b.astype(np.float32),
                mean=mean.astype(np.float32), scale=scale.astype(np.float32), version=version)
