"""The learned head's weights file, shipped inside the package (`make train-classifier`)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ..domain.head import LearnedHeads, heads_from_dict

HEAD_VERSION = "head-2"


@lru_cache(maxsize=4)
def packaged_heads(version: str = HEAD_VERSION) -> LearnedHeads:
    """The heads of `data/<version>.json`; a missing or broken file fails loudly."""
    text = resources.files("gemroll_classifier").joinpath(f"data/{version}.json").read_text()
    return heads_from_dict(json.loads(text))
