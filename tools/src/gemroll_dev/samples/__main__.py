"""`python -m gemroll_dev.samples build OUT_DIR [--size demo|eval|bench] [--seed N]`."""

from __future__ import annotations

import logging
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build the labeled sample camera roll.", no_args_is_help=True)


class Size(StrEnum):
    demo = "demo"
    eval = "eval"
    bench = "bench"


@app.command()
def build(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the images and manifest.json.")],
    size: Annotated[Size, typer.Option(help="demo (~50), eval (~400) or bench (12 MP JPEGs).")]
    = Size.demo,
    seed: Annotated[int, typer.Option(help="Same seed, same items and labels.")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (0: one per core, max 4).")] = 0,
) -> None:
    """Build the roll into OUT_DIR and print a summary."""
    from rich.progress import Progress

    from . import build_camera_roll

    started = time.monotonic()
    with Progress(transient=True) as bar:
        task = bar.add_task(f"building {size.value} roll", total=None)
        manifest = build_camera_roll(
            out_dir, size.value, seed, workers=workers or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    counts = ", ".join(f"{k}={v}" for k, v in manifest.counts().items())
    typer.echo(f"{len(manifest.items)} items in {out_dir} ({time.monotonic() - started:.1f} s): "
               f"{counts}")


@app.command()
def bench(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the JPEGs.")],
    count: Annotated[int, typer.Option(help="How many 12-megapixel JPEGs.")] = 96,
    seed: Annotated[int, typer.Option(help="Same seed, same JPEGs.")] = 0,
) -> None:
    """Only the 12-megapixel benchmark JPEGs."""
    from . import build_bench_jpegs

    started = time.monotonic()
    paths = build_bench_jpegs(out_dir, count, seed)
    typer.echo(f"{len(paths)} JPEGs in {out_dir} ({time.monotonic() - started:.1f} s)")


@app.command()
def deps() -> None:
    """Install the Debian packages the builder needs (Chromium, wallpapers, docs, fonts)."""
    from . import ensure_requirements

    installed = ensure_requirements()
    typer.echo(f"installed: {' '.join(installed)}" if installed else "all present")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app()
