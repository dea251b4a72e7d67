"""ImageNet label families that say "this is a screen or a document, not a scene"."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LABEL_FAMILIES: dict[str, frozenset[str]] = {
    "screen": frozenset({
        "web site", "monitor", "screen", "television", "desktop computer", "laptop",
        "notebook", "hand-held computer", "cellular telephone", "iPod", "scoreboard",
        "digital clock", "digital watch", "oscilloscope", "cash machine", "slot",
    }),
    "document": frozenset({
        "menu", "envelope", "crossword puzzle", "book jacket", "comic book", "binder",
        "packet", "rule", "slide rule", "paper towel", "toilet tissue", "letter opener",
        "file", "street sign", "carton", "handkerchief", "wallet", "jigsaw puzzle",
    }),
}


def family_indices(categories: Sequence[str]) -> dict[str, np.ndarray]:
    """Indices of each family's labels in the model's category list."""
    index = {name: i for i, name in enumerate(categories)}
    return {family: np.array(sorted(index[n] for n in names if n in index), dtype=np.int64)
            for family, names in LABEL_FAMILIES.items()}


def family_scores(probs: np.ndarray, indices: dict[str, np.ndarray]) -> dict[str, float]:
    """Summed softmax probability per family for one image."""
    return {family: float(probs[idx].sum()) for family, idx in indices.items()}
