"""Train the small category head on the project's own sample camera roll (reproducible).

    python -m gemroll_classifier.train_head [--seeds 1] [--out .cache/samples]

Builds (or reuses) the labeled `eval` roll for each training seed with
`gemroll_dev.samples.build_camera_roll` (seed 0 is held out for `make eval-classifier`),
extracts the same features the service computes (Pillow decode, pixel statistics, MobileNetV2
embedding and label families), fits a multinomial logistic regression and writes
`gemroll_classifier/head.npz`. Training takes seconds once features are extracted; the
features are cached in `<out>/features-<size>-seed<N>.npz`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .adapters.decode import decode
from .domain.features import ModelSignals, Prepared, Unreadable
from .domain.head import CLASSES, fit, head_input
from .domain.labels import family_indices, family_scores

HEAD_PATH = Path(__file__).with_name("head.npz")


def roll(out: Path, size: str, seed: int) -> tuple[Path, Any]:
    from gemroll_dev.samples import Manifest, build_camera_roll

    folder = out / f"{size}-seed{seed}"
    if (folder / "manifest.json").is_file():
        return folder, Manifest.read(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder, build_camera_roll(folder, size=size, seed=seed)


def prepared_items(folder: Path, manifest: Any, model: Any, batch: int = 32,
                   ) -> list[tuple[Any, Prepared, np.ndarray, ModelSignals]]:
    """(manifest item, prepared image, embedding, signals) for every readable item."""
    families = family_indices(model.categories)
    out = []
    items = list(manifest.items)
    for i in range(0, len(items), batch):
        chunk = []
        for item in items[i:i + batch]:
            try:
                prepared = decode((folder / item.file_name).read_bytes())
            except Unreadable:
                continue
            chunk.append((item, prepared))
        embeddings, probs = model.infer([p.model_input for _, p in chunk])
        for (item, prepared), emb, p in zip(chunk, embeddings, probs, strict=True):
            top = np.argsort(p)[::-1][:5]
            signals = ModelSignals(labels=tuple(model.categories[j] for j in top),
                                   label_probs=tuple(float(p[j]) for j in top),
                                   families=family_scores(p, families))
            out.append((item, prepared, emb, signals))
    return out


def dataset(folder: Path, manifest: Any, model: Any) -> tuple[np.ndarray, np.ndarray]:
    cache = folder.parent / f"features-{folder.name}.npz"
    if cache.is_file():
        with np.load(cache) as data:
            return data["x"], data["y"]
    rows = prepared_items(folder, manifest, model)
    x = np.stack([head_input(p.facts, p.stats, s, e) for _, p, e, s in rows])
    y = np.array([CLASSES.index(item.category.value) for item, *_ in rows])
    np.savez_compressed(cache, x=x, y=y)
    return x, y


def main(argv: list[str] | None = None) -> int:
    from .app import build_models
    from .settings import ClassifierSettings

    parser = argparse.ArgumentParser(prog="python -m gemroll_classifier.train_head")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--size", default="eval")
    parser.add_argument("--out", type=Path, default=Path(".cache/samples"))
    parser.add_argument("--head", type=Path, default=HEAD_PATH)
    args = parser.parse_args(argv)
    if 0 in args.seeds:
        print("seed 0 is the held-out evaluation split; train on other seeds", file=sys.stderr)
        return 2
    model = build_models(ClassifierSettings(device="cpu", nsfw_enabled=False)).image
    xs, ys = [], []
    for seed in args.seeds:
        folder, manifest = roll(args.out, args.size, seed)
        x, y = dataset(folder, manifest, model)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    head = fit(x, y, version=f"head-{args.size}-seeds{'-'.join(map(str, args.seeds))}")
    predicted = np.array([np.argmax(list(head.probabilities(row).values())) for row in x])
    print(f"trained on {len(y)} items {np.bincount(y, minlength=len(CLASSES)).tolist()}; "
          f"training accuracy {np.mean(predicted == y):.3f}")
    head.save(args.head)
    print(f"wrote {args.head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
