"""The batch's image-model pass: embeddings and label signals per input, in one call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np

from .. import metrics
from ..domain.features import ModelSignals
from ..domain.labels import family_scores
from ..ports import ImageModel


async def infer(model: ImageModel, pool: Executor, inputs: Sequence[object],
                families: dict[str, np.ndarray]) -> tuple[list[np.ndarray], list[ModelSignals]]:
    """(float32 embeddings, top-5 labels and label-family scores) per input."""
    if not inputs:
        return [], []
    started = time.perf_counter()
    embeddings, probs = await asyncio.get_running_loop().run_in_executor(
        pool, model.infer, list(inputs))
    metrics.INFERENCE_SECONDS.observe(time.perf_counter() - started)
    categories = model.categories
    signals = []
    for p in probs:
        top = np.argsort(p)[::-1][:5]
        signals.append(ModelSignals(
            labels=tuple(categories[i][:80] for i in top),
            label_probs=tuple(round(float(p[i]), 4) for i in top),
            families=family_scores(p, families)))
    return [e.astype(np.float32) for e in embeddings], signals
