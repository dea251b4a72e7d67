"""The learned head: small logistic regressions over named features (and, for the category
heads, the MobileNetV2 embedding), fitted by `make train-classifier`. Pure numpy, no I/O.

Every feature is standardised with the training mean and spread; a head's logit is the sum of
its features' contributions, so the reasons are the largest contributions, each mapped to a
reason code. Metadata never enters a head: screenshot and document need pixel evidence, and
missing EXIF or an exact screen size only appear as corroborating reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .detail import DetailStats
from .features import ModelSignals, PixelStats

EMBEDDING = "embedding"

# feature -> (reason code when it pushes a head towards "yes", per head)
REASONS: dict[str, dict[str, str]] = {
    "screenshot": {
        "flat_fraction": "screenshot:flat_regions", "palette_fraction": "screenshot:few_colors",
        "screen_family": "screenshot:screen_label", EMBEDDING: "screenshot:looks_like_a_screen",
        "edge_density": "screenshot:text_like_edges",
    },
    "document": {
        "paper_fraction": "document:paper_background", "edge_density": "document:text_like_edges",
        "document_family": "document:document_label", EMBEDDING: "document:looks_like_a_page",
        "colorfulness": "document:few_colors",
    },
    "blurry": {
        "sharp_best": "blurry:soft_detail", "sharp_median": "blurry:soft_detail",
        "energy_best": "blurry:soft_detail", "weak_axis_best": "blurry:directional_blur",
        "anisotropy": "blurry:directional_blur", "log_tile_var": "blurry:low_laplacian_variance",
        "log_directional_var": "blurry:directional_blur",
        "log_laplacian_var": "blurry:low_laplacian_variance",
        "face_sharpness": "blurry:face_out_of_focus", "edge_p90": "blurry:soft_edges",
        "edge_median": "blurry:soft_edges", "edge_weak_p90": "blurry:directional_blur",
    },
    "dark": {
        "brightness": "dark:low_mean_luminance", "dark_fraction": "dark:crushed_shadows",
        "luma_p99": "dark:no_highlights", "bright_fraction": "dark:no_highlights",
        "contrast": "dark:little_structure", "energy_best": "dark:little_structure",
    },
}


def _log(value: float) -> float:
    return math.log10(max(value, 1.0))


def named_features(stats: PixelStats, detail: DetailStats | None, signals: ModelSignals | None,
                   face_count: int = 0, face_area: float = 0.0,
                   face_sharpness: float | None = None) -> dict[str, float]:
    """Every named (non-embedding) feature a head may use; no metadata."""
    d = detail
    sharp = d.sharp_best if d else 0.0
    fam = signals.families if signals is not None else {}
    return {
        "brightness": stats.brightness, "dark_fraction": stats.dark_fraction,
        "blown_fraction": stats.blown_fraction, "contrast": stats.contrast,
        "luma_p99": stats.luma_p99, "bright_fraction": stats.bright_fraction,
        "log_laplacian_var": _log(stats.laplacian_var),
        "log_tile_var": _log(stats.sharpest_tile_var),
        "log_directional_var": _log(stats.directional_var),
        "noise_sigma": stats.noise_sigma, "flat_fraction": stats.flat_fraction,
        "edge_density": stats.edge_density, "colorfulness": stats.colorfulness / 100.0,
        "palette_fraction": stats.palette_fraction, "paper_fraction": stats.paper_fraction,
        "skin_fraction": stats.skin_fraction,
        "sharp_best": sharp, "sharp_median": d.sharp_median if d else 0.0,
        "weak_axis_best": d.weak_axis_best if d else 0.0,
        "anisotropy": d.anisotropy if d else 1.0,
        "energy_best": d.energy_best if d else 0.0,
        "textured_fraction": d.textured_fraction if d else 0.0,
        "detail_noise": d.noise_sigma if d else 0.0,
        "detail_scale": d.scale if d else 1.0,
        "edge_p90": d.edge_p90 if d else 1.0, "edge_median": d.edge_median if d else 1.0,
        "edge_weak_p90": d.edge_weak_p90 if d else 1.0,
        "edge_contrast": d.edge_contrast if d else 0.0,
        "screen_family": fam.get("screen", 0.0), "document_family": fam.get("document", 0.0),
        "face_count": math.log1p(min(face_count, 20)), "face_area": face_area,
        # 0 without a face: with face_count 0 the head learns it is no evidence
        "face_sharpness": face_sharpness or 0.0,
    }


@dataclass(frozen=True)
class LinearHead:
    name: str
    features: tuple[str, ...]
    mean: np.ndarray  # per feature (and then per embedding dimension)
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    uses_embedding: bool = False
    corroborated_threshold: float | None = None  # enough when metadata corroborates

    def vector(self, named: Mapping[str, float], embedding: np.ndarray | None) -> np.ndarray:
        x = np.array([named[f] for f in self.features], dtype=np.float64)
        if self.uses_embedding:
            emb = np.zeros(self.weights.size - x.size) if embedding is None else embedding
            x = np.concatenate([x, np.asarray(emb, dtype=np.float64)])
        return (x - self.mean) / self.scale

    def contributions(self, z: np.ndarray) -> dict[str, float]:
        parts = self.weights * z
        out = {f: float(parts[i]) for i, f in enumerate(self.features)}
        if self.uses_embedding:
            out[EMBEDDING] = float(parts[len(self.features):].sum())
        return out

    def probability(self, z: np.ndarray) -> float:
        logit = float(self.weights @ z) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, logit))))


@dataclass(frozen=True)
class HeadOutcome:
    probability: float
    fired: bool
    reasons: tuple[str, ...]


def run_head(head: LinearHead, named: Mapping[str, float], embedding: np.ndarray | None,
             top: int = 2, *, force: bool = False) -> HeadOutcome:
    """Probability, decision at the calibrated threshold, and the reasons: the largest
    positive contributions that have a reason code (distinct codes, at most `top`; `force`:
    also below the threshold)."""
    z = head.vector(named, embedding)
    p = head.probability(z)
    codes: list[str] = []
    if p >= head.threshold or force:
        parts = sorted(head.contributions(z).items(), key=lambda kv: -kv[1])
        for feature, value in parts:
            code = REASONS.get(head.name, {}).get(feature)
            if value > 0 and code and code not in codes:
                codes.append(code)
            if len(codes) >= top:
                break
    return HeadOutcome(p, p >= head.threshold, tuple(codes))


@dataclass(frozen=True)
class LearnedHeads:
    version: str
    heads: Mapping[str, LinearHead]

    def __getitem__(self, name: str) -> LinearHead:
        return self.heads[name]


def _array(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def heads_from_dict(doc: Mapping) -> LearnedHeads:
    """The weights file's content (see `train_classifier`) to heads."""
    heads = {}
    for name, h in doc["heads"].items():
        heads[name] = LinearHead(
            name=name, features=tuple(h["features"]), mean=_array(h["mean"]),
            scale=_array(h["scale"]), weights=_array(h["weights"]), bias=float(h["bias"]),
            threshold=float(h["threshold"]), uses_embedding=bool(h["uses_embedding"]),
            corroborated_threshold=h.get("corroborated_threshold"))
    missing = {"screenshot", "document", "blurry", "dark"} - heads.keys()
    if missing:
        raise ValueError(f"the weights file lacks heads {sorted(missing)}")
    return LearnedHeads(version=str(doc["version"]), heads=heads)
