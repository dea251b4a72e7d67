"""Justified-rows layout: photos in their order, each row scaled to the full width.

Every tile keeps its photo's aspect ratio up to pixel rounding, so nothing is distorted and
at most a pixel or two is cropped (faces stay in frame). The rows come from a linear
partition of the aspect ratios (balanced row widths); the number of rows is the one whose
canvas comes closest to the wanted height/width ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Tile:
    index: int
    """Position of the photo in the input list."""
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    tiles: tuple[Tile, ...]


def linear_partition(weights: Sequence[float], rows: int) -> list[list[int]]:
    """Split indices 0..n-1, in order, into `rows` non-empty runs minimising the largest
    squared distance of a run's weight from the ideal (total / rows)."""
    n = len(weights)
    if not 1 <= rows <= n:
        raise ValueError(f"cannot split {n} photos into {rows} rows")
    ideal = sum(weights) / rows
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)

    @cache
    def best(start: int, left: int) -> tuple[float, tuple[int, ...]]:
        if left == 1:
            return (prefix[n] - prefix[start] - ideal) ** 2, (n,)
        options = []
        for end in range(start + 1, n - left + 2):
            cost = (prefix[end] - prefix[start] - ideal) ** 2
            rest_cost, rest = best(end, left - 1)
            options.append((max(cost, rest_cost) + 1e-9 * (cost + rest_cost), (end, *rest)))
        return min(options)

    _, ends = best(0, rows)
    runs, start = [], 0
    for end in ends:
        runs.append(list(range(start, end)))
        start = end
    return runs


def rows_layout(aspects: Sequence[float], runs: Sequence[Sequence[int]], width: int,
                gap: int) -> Layout:
    """Tiles for the given rows: each row fills `width` minus gaps and outer margins."""
    tiles: list[Tile] = []
    y = gap
    inner = width - 2 * gap
    for run in runs:
        row_aspect = sum(aspects[i] for i in run)
        usable = inner - gap * (len(run) - 1)
        if usable <= len(run):
            raise ValueError("canvas too narrow for this row")
        height = max(1, round(usable / row_aspect))
        x_edges = [0.0]
        for i in run:
            x_edges.append(x_edges[-1] + aspects[i] / row_aspect * usable)
        for k, i in enumerate(run):
            left = gap + round(x_edges[k]) + k * gap
            right = gap + round(x_edges[k + 1]) + k * gap
            tiles.append(Tile(i, left, y, right - left, height))
        y += height + gap
    return Layout(width, y, tuple(tiles))


def justified(aspects: Sequence[float], width: int = 1600, gap: int = 8,
              target_ratio: float = 0.8) -> Layout:
    """The justified layout whose height/width is nearest `target_ratio`."""
    if not aspects:
        raise ValueError("no photos to lay out")
    if any(a <= 0 for a in aspects):
        raise ValueError("aspect ratios must be positive")
    candidates = []
    for rows in range(1, len(aspects) + 1):
        layout = rows_layout(aspects, linear_partition(aspects, rows), width, gap)
        candidates.append((abs(layout.height / width - target_ratio), rows, layout))
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


def cover(aspects: Sequence[float], width: int = 1200, gap: int = 6,
          thumbnails: int = 4) -> Layout:
    """Highlight cover: the first photo alone on top, up to `thumbnails` more in one row."""
    if not aspects:
        raise ValueError("no photos to lay out")
    runs = [[0]]
    rest = list(range(1, min(len(aspects), thumbnails + 1)))
    if rest:
        runs.append(rest)
    return rows_layout(aspects, runs, width, gap)
