"""`make train-classifier`: fit the classifier's learned head and write its weights file.

    python -m gemroll_dev.train_classifier [--seed 0] [--out PATH] [--check]

Builds the training roll (`gemroll_dev.samples`, size `train`: real photos from the Python and
Debian packages of `samples.catalog`, Chromium screenshots of Debian's reference pages,
rendered documents, blur, darkness and the hard good cases made from those photos), turns
every photo into the features the service computes (the same decode, the same MobileNetV2 and
face detector, `head.named_features`), and fits one L2-regularised logistic regression per head
by Newton's method in float64. Each head's threshold is set on out-of-fold predictions (five
folds by a hash of the source photo, or of the item id where there is none), its weights on
every item. Nothing of the evaluation roll
(`samples.holdout`) is used. Features and weights are rounded before they are written, so a
rerun reproduces the file byte for byte; `--check` retrains and compares with the shipped file
(byte for byte on the same roll files; within `check`'s tolerance where the roll's files
differ because a package the builder reads, such as Chromium, changed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VERSION = "head-2"
WEIGHTS = (Path(__file__).resolve().parents[3] / "services" / "classifier" / "src"
           / "gemroll_classifier" / "data" / f"{VERSION}.json")

CATEGORY_FEATURES = (
    "flat_fraction", "palette_fraction", "edge_density", "paper_fraction", "colorfulness",
    "contrast", "brightness", "screen_family", "document_family", "sharp_best",
    "textured_fraction", "noise_sigma", "detail_noise", "skin_fraction",
)
HEAD_FEATURES: dict[str, tuple[tuple[str, ...], bool, float]] = {
    # name: (named features, uses the embedding, L2 strength)
    "screenshot": (CATEGORY_FEATURES, True, 30.0),
    "document": (CATEGORY_FEATURES, True, 30.0),
    "blurry": (("edge_p90", "edge_median", "edge_weak_p90", "edge_contrast",
                "sharp_best", "sharp_median", "weak_axis_best", "anisotropy", "energy_best",
                "textured_fraction", "detail_noise", "log_laplacian_var",
                "log_tile_var", "log_directional_var", "noise_sigma", "contrast",
                "brightness", "face_count", "face_sharpness"), False, 1.0),
    "dark": (("brightness", "dark_fraction", "luma_p99", "bright_fraction", "contrast",
              "energy_best", "textured_fraction", "noise_sigma", "blown_fraction"), False, 1.0),
}


FOLDS = 5
MIN_RECALL = {"blurry": 0.9}  # the aim for junk classes, met out of fold
SMALL_BLUR = 5.0  # px of the stored photo: below it, blur a viewer barely notices


def planned_blur_px(recipe) -> float:  # noqa: ANN001
    """A planned blur's size in pixels of the stored photo (0: none)."""
    effect = getattr(recipe, "effect", None)
    if effect is None or effect.kind not in ("defocus", "shake", "pan", "gaussian_blur",
                                             "motion_blur"):
        return 0.0
    return effect.amount * recipe.long_side


@dataclass
class Sample:
    item_id: str
    named: dict[str, float]
    embedding: np.ndarray
    category: str
    quality: str
    variant: str
    blur_px: float = 0.0  # the planned blur's size in pixels of the stored photo
    source: str = ""  # the real photo it was made from ("" for screens and documents)

    @property
    def fold(self) -> int:
        """Every photo made from one source falls in one fold: a threshold set out of fold
        then says how the head does on photos it has never seen, not on new crops of them."""
        key = self.source or self.item_id
        return hashlib.sha256(key.encode()).digest()[0] % FOLDS


def labels_for(head: str, samples: list[Sample]) -> tuple[list[Sample], np.ndarray]:
    """Which samples a head learns from, and their 0/1 labels."""
    if head in ("screenshot", "document"):
        return samples, np.array([s.category == head for s in samples], dtype=np.float64)
    # quality heads: photos only; a burst's soft, non-best frames teach the burst pick, not blur
    photos = [s for s in samples if s.category == "photo" and s.variant != "burst_frame"]
    if head == "blurry":  # the dark head speaks first: dark shots teach it nothing
        photos = [s for s in photos if s.quality != "dark"]
    return photos, np.array([s.quality == head for s in photos], dtype=np.float64)


def design(head: str, samples: list[Sample]) -> np.ndarray:
    names, uses_embedding, _ = HEAD_FEATURES[head]
    x = np.array([[s.named[n] for n in names] for s in samples], dtype=np.float64)
    if uses_embedding:
        x = np.hstack([x, np.stack([s.embedding for s in samples]).astype(np.float64)])
    return x


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 30,
                 ) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularised logistic regression by Newton's method (deterministic)."""
    n, d = x.shape
    pos = max(1.0, y.sum())
    sample_w = np.where(y > 0, n / (2 * pos), n / (2 * max(1.0, n - pos)))
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -40, 40)))
        grad = a.T @ (sample_w * (p - y)) + reg * w
        hess = (a * (sample_w * p * (1 - p))[:, None]).T @ a + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return w[:-1], float(w[-1])


def best_threshold(p: np.ndarray, y: np.ndarray, min_recall: float | None = None,
                   ) -> tuple[float, dict[str, float]]:
    """The threshold with the best balanced accuracy on out-of-fold predictions; where a
    range of thresholds ties, its middle. With `min_recall`: the highest threshold that
    still catches that share of the positives (the product's aim for junk)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores, recalls = [], []
    for t in grid:
        pred = p >= t
        tpr = float((pred & (y > 0)).sum() / max(1, (y > 0).sum()))
        tnr = float((~pred & (y == 0)).sum() / max(1, (y == 0).sum()))
        scores.append(round((tpr + tnr) / 2, 6))
        recalls.append(tpr)
    top = max(scores)
    tied = [float(t) for t, sc in zip(grid, scores, strict=True) if sc == top]
    best = tied[len(tied) // 2]
    if min_recall is not None:
        enough = [float(t) for t, r in zip(grid, recalls, strict=True) if r >= min_recall]
        best = min(best, max(enough)) if enough else float(grid[0])
        top = scores[int(np.argmin(np.abs(grid - best)))]
    pred = p >= best
    return best, {"balanced_accuracy": top,
                  "recall": round(float((pred & (y > 0)).sum() / max(1, (y > 0).sum())), 4),
                  "false_positive_rate":
                      round(float((pred & (y == 0)).sum() / max(1, (y == 0).sum())), 4),
                  "positives": int((y > 0).sum()), "items": int(y.size)}


def _g(value: float) -> float:
    return float(f"{value:.6g}")


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return np.array([_g(v) for v in mean]), np.array([_g(v) for v in scale])


def _fit(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                            float]:
    mean, scale = _standardise(x)
    w, b = fit_logistic((x - mean) / scale, y, l2)
    return mean, scale, np.array([_g(v) for v in w]), _g(b)


def _predict(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, w: np.ndarray,
             b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ w + b, -40, 40)))


def train_head(head: str, samples: list[Sample]) -> dict:
    """Weights fitted on every item; the threshold set on out-of-fold predictions (five
    folds, see `Sample.fold`), so no photo sets the threshold it was fitted on.

    A category head's threshold weighs its class against photos only: a photo taken for a
    screenshot or a document loses a gem, while a screenshot against a document is settled
    by which head is surer (`judge`)."""
    names, uses_embedding, l2 = HEAD_FEATURES[head]
    chosen, y = labels_for(head, samples)
    x = design(head, chosen)
    folds = np.array([s.fold for s in chosen])
    oof = np.zeros(len(chosen))
    for k in range(FOLDS):
        test = folds == k
        oof[test] = _predict(x[test], *_fit(x[~test], y[~test], l2))
    weighed = np.array([s.category in ("photo", head) for s in chosen]) if head in (
        "screenshot", "document") else np.ones(len(chosen), dtype=bool)
    threshold, calibration = best_threshold(oof[weighed], y[weighed], MIN_RECALL.get(head))
    if head == "blurry":  # out-of-fold recall where blur is hardest to see, and the rest
        # (the fine blurs of 5-20 px and the roll's older, wider Gaussian and motion blurs)
        small = np.array([0 < s.blur_px < SMALL_BLUR for s in chosen]) & (y > 0)
        calibration["recall_2_5px"] = round(float((oof[small] >= threshold).mean()), 4)
        calibration["recall_5px_up"] = round(
            float((oof[(y > 0) & ~small] >= threshold).mean()), 4)
    extra = {}
    if head == "screenshot":
        # weak pixel evidence that exact screen size and missing EXIF may corroborate: above
        # every photo's out-of-fold probability (with a margin), below the head's threshold
        photos = np.array([s.category == "photo" for s in chosen])
        top = float(oof[photos].max()) if photos.any() else 0.0
        extra["corroborated_threshold"] = round(min(threshold, max(0.05, 1.5 * top)), 3)
    mean, scale, w, b = _fit(x, y, l2)
    return {**extra, "features": list(names), "uses_embedding": uses_embedding, "l2": l2,
            "mean": mean.tolist(), "scale": scale.tolist(), "weights": w.tolist(), "bias": b,
            "threshold": threshold, "calibration": calibration, "fit_items": int(y.size)}


# -- features, exactly as the service computes them ------------------------------------------

def extract(folder: Path, manifest, threads: int = 2) -> list[Sample]:  # noqa: ANN001
    """Every photo of the roll through the service's decode, image model and face detector,
    to the head's named features and the embedding (rounded: reruns give the same bits)."""
    from gemroll_classifier.adapters.decode import decode
    from gemroll_classifier.domain.faces import keep_faces
    from gemroll_classifier.domain.features import ModelSignals, Unreadable
    from gemroll_classifier.domain.judge import photo_features, summarize_faces
    from gemroll_classifier.domain.labels import family_indices, family_scores
    from gemroll_classifier.models import build_models
    from gemroll_classifier.settings import ClassifierSettings

    from .eval_videos import is_clip
    from .samples.plan import plan_camera_roll

    settings = ClassifierSettings(device="cpu")
    models = build_models(settings, learned_heads=False)
    models.load()
    families = family_indices(models.image.categories)
    items = sorted((i for i in manifest.items if not is_clip(i)), key=lambda i: i.id)
    recipes = {p.id: p.recipe for p in plan_camera_roll(manifest.size, manifest.seed)}

    def prepare(item):  # noqa: ANN001, ANN202
        try:
            return decode((folder / item.file_name).read_bytes(),
                          analysis_long_side=settings.analysis_long_side,
                          max_pixels=settings.max_image_pixels)
        except Unreadable:
            return None

    samples: list[Sample] = []
    with ThreadPoolExecutor(threads) as pool:
        for start in range(0, len(items), 32):
            chunk = items[start:start + 32]
            ok = [(i, p) for i, p in zip(chunk, pool.map(prepare, chunk), strict=True)
                  if p is not None]
            embeddings, probs = models.image.infer([p.model_input for _, p in ok])
            for (item, p), emb, prob in zip(ok, embeddings, probs, strict=True):
                if models.faces is not None:  # one at a time: the same bits on every run
                    p.faces = keep_faces(models.faces.detect(p.rgb), limit=None)
                signals = ModelSignals((), (), family_scores(prob, families))
                named = photo_features(p.stats, p.detail, signals, summarize_faces(p))
                samples.append(Sample(
                    item.id, {k: round(float(v), 5) for k, v in named.items()},
                    np.round(np.asarray(emb, dtype=np.float64), 5), item.category.value,
                    item.quality.value, item.variant,
                    round(planned_blur_px(recipes[item.id]), 4),
                    getattr(recipes[item.id], "source", "")))
            print(f"  features {len(samples)}/{len(items)}", flush=True)
    return samples


def train(samples: list[Sample], roll: dict) -> str:
    doc = {"version": VERSION, "trained_on": roll,
           "heads": {h: train_head(h, samples) for h in HEAD_FEATURES}}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


# A roll whose bytes changed outside the project (a renderer's update moves screenshot pixels
# by a level here and there) gives a fit that must still agree this closely with the shipped one
THRESHOLD_DRIFT = 0.02  # two steps of the threshold grid
WEIGHT_DRIFT = 0.01  # on standardised features
DECISION_AGREEMENT = 0.99  # of the roll's items, each head's yes/no


def drift(shipped: dict, retrained: dict, samples: list[Sample]) -> list[str]:
    """How a refit on a changed roll departs from the shipped heads beyond tolerance."""
    problems = []
    for head, new in retrained["heads"].items():
        old = shipped.get("heads", {}).get(head)
        if old is None or old["features"] != new["features"] or (
                old["uses_embedding"] != new["uses_embedding"]):
            problems.append(f"{head}: not the same head")
            continue
        if abs(old["threshold"] - new["threshold"]) > THRESHOLD_DRIFT:
            problems.append(f"{head}: threshold {old['threshold']} -> {new['threshold']}")
        moved = max((abs(a - b) for a, b in zip(old["weights"], new["weights"], strict=True)),
                    default=0.0)
        if moved > WEIGHT_DRIFT:
            problems.append(f"{head}: a weight moved by {moved:.4f}")
        x = design(head, labels_for(head, samples)[0])
        said = [_predict(x, np.array(h["mean"]), np.array(h["scale"]), np.array(h["weights"]),
                         h["bias"]) >= h["threshold"] for h in (old, new)]
        agree = float(np.mean(said[0] == said[1])) if x.size else 1.0
        if agree < DECISION_AGREEMENT:
            problems.append(f"{head}: decisions agree on {agree:.3f} of the items")
    return problems


def check(shipped: str, text: str, digest: str, samples: list[Sample]) -> tuple[bool, str]:
    """(passes, why) for `--check`: byte for byte on the roll the shipped file was fitted on;
    where the roll's files differ (a package the builder reads changed), within tolerance."""
    if shipped == text:
        return True, "identical to the shipped weights"
    try:
        doc = json.loads(shipped)
        fitted_on = doc["trained_on"]["files_sha256"]
    except (ValueError, KeyError, TypeError):
        return False, "the shipped file is missing or unreadable"
    if fitted_on == digest:
        return False, "same roll files as the shipped weights: the features or the fit changed"
    from .samples.chromium import chromium_version

    changed = (f"the roll's files differ from those the shipped weights were fitted on "
               f"({digest[:12]} vs {fitted_on[:12]}; the screenshots are rendered by "
               f"{chromium_version()})")
    problems = drift(doc, json.loads(text), samples)
    if problems:
        return False, (f"{changed}, and the refit departs from them: {'; '.join(problems)}; "
                       "retrain with `make train-classifier` and ship the file")
    return True, (f"{changed}; the refit agrees within tolerance (thresholds within "
                  f"{THRESHOLD_DRIFT}, weights within {WEIGHT_DRIFT}, decisions on "
                  f">= {DECISION_AGREEMENT:.0%} of the items)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--roll-dir", type=Path, default=Path(".cache/samples"))
    ap.add_argument("--check", action="store_true",
                    help="retrain and compare with the shipped weights instead of writing")
    ap.add_argument("--features-cache", type=Path, default=None,
                    help="reuse extracted features from this file (experiments only)")
    args = ap.parse_args(argv)
    from .eval_classifier import build

    started = time.perf_counter()
    folder, manifest = build(args.roll_dir, "train", args.seed)
    digest = hashlib.sha256("".join(
        f"{i.id}:{i.sha256}\n" for i in sorted(manifest.items, key=lambda i: i.id)).encode()
    ).hexdigest()  # the roll's files, whatever the manifest's other fields
    cache = args.features_cache
    if cache and cache.is_file():
        samples = pickle.loads(cache.read_bytes())
    else:
        samples = extract(folder, manifest)
        if cache:
            cache.write_bytes(pickle.dumps(samples))
    text = train(samples, {"roll": "train", "seed": args.seed, "items": len(samples),
                           "files_sha256": digest})
    took = time.perf_counter() - started
    if args.check:
        passes, why = check(args.out.read_text() if args.out.is_file() else "", text, digest,
                            samples)
        print(f"retrained in {took:.0f} s, {args.out}: {why}")
        return 0 if passes else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    for head, h in json.loads(text)["heads"].items():
        print(f"{head:10s} threshold {h['threshold']:.2f}  calibration {h['calibration']}")
    print(f"wrote {args.out} in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
