"""In-memory fakes of the classifier's ports."""

from __future__ import annotations

import numpy as np
from gemroll_classifier.adapters.memory import ListSink, MemoryReader, MemoryResults

FakeReader = MemoryReader
FakeStore = MemoryResults
FakeSink = ListSink


class FakeModel:
    """Deterministic stand-in for MobileNetV2: embedding from a coarse thumbnail."""

    name = "fake"
    version = "1"
    device = "cpu"
    loaded = True

    def __init__(self) -> None:
        self.categories = [f"class{i}" for i in range(1000)]
        self.categories[916] = "web site"
        self.calls = 0

    def infer(self, inputs):  # noqa: ANN001, ANN201
        self.calls += 1
        embs, probs = [], []
        for x in inputs:
            small = np.asarray(x, dtype=np.float32)[::28, ::28].ravel()
            small = small - small.mean()
            embs.append(small / (np.linalg.norm(small) + 1e-6))
            p = np.full(1000, 1e-4, np.float32)
            p[0] = 1 - p.sum() + p[0]
            probs.append(p)
        return np.stack(embs).astype(np.float32), np.stack(probs)


class FakeNsfw:
    def __init__(self, score: float = 0.01) -> None:
        self.score = score
        self.seen = 0

    def scores(self, images):  # noqa: ANN001, ANN201
        self.seen += len(images)
        return [self.score] * len(images)
