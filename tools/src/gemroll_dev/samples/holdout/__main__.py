"""`python -m gemroll_dev.samples.holdout OUT_DIR [--seed N] [--workers N]`: build the roll."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.samples.holdout")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core, at most 4")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from . import build_holdout_roll

    started = time.monotonic()
    manifest = build_holdout_roll(args.out_dir, args.seed, workers=args.workers or None)
    slices = Counter(s for item in manifest.items for s in item.slices)
    print(f"{len(manifest.items)} items in {args.out_dir} ({time.monotonic() - started:.0f} s): "
          f"{manifest.counts()}")
    print("slices: " + ", ".join(f"{k}={v}" for k, v in sorted(slices.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
