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


class FakePublisher:
    """Collects what the runner publishes (dead letters)."""

    def __init__(self) -> None:
        self.sent: list = []

    async def publish(self, topic, event, *, key):  # noqa: ANN001, ANN201
        self.sent.append((topic, event, key))

    def letters(self) -> dict:
        """Dead letters by source offset."""
        from gemroll_contracts import DEAD_LETTERS

        return {e.data.source_offset: e.data for t, e, _ in self.sent if t is DEAD_LETTERS}


class FakeBroker:
    """Stands in for the FastStream broker: keeps each subscription's options and handler,
    so a test can feed records to the kit's runner as Kafka would."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict] = {}

    def subscriber(self, topic: str, **options):  # noqa: ANN003, ANN201
        def register(handler):  # noqa: ANN001, ANN202
            self.subscriptions[topic] = {**options, "handler": handler}
            return handler

        return register

    async def deliver(self, topic: str, records: list) -> None:
        """Hand `records` (a batch, or a list of one for a plain subscription) to the runner."""
        from types import SimpleNamespace

        sub = self.subscriptions[topic]
        raw = records if sub.get("batch") else records[0]
        await sub["handler"](None, SimpleNamespace(raw_message=raw))


def record(value: bytes, offset: int, topic: str = "gemroll.media.uploaded.v1",
           key: bytes = b"user") -> object:
    from types import SimpleNamespace

    return SimpleNamespace(value=value, key=key, topic=topic, partition=0, offset=offset)
