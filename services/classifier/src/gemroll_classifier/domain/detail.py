"""Sharpness where blur lives: on a large decode (long side ~1400-2800 px), per tile, contrast
normalised. Pure numpy.

Each tile's fine-scale gradient energy is compared with its energy one octave down (2x2
means). Smooth (blurred) detail keeps a quarter of it, crisp edges half or more: the ratio
does not depend on the tile's contrast or brightness, so fog, night and low-key shots are not
taken for blur. Sensor noise raises the fine energy; its share (estimated on the flattest
tiles) is taken out first. Only the most structured tiles count (a sharp subject on a soft
background is sharp), and each direction is kept apart (motion blur flattens one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TILE = 64  # pixels of the detail image
MIN_STRUCTURE = 3.0  # coarse gradient energy (8-bit levels squared) of a textured tile
MAX_TILES = 48  # the most structured tiles measured at full detail


@dataclass(frozen=True)
class DetailStats:
    """Sharpness of the detail-sized luminance (see module doc); ratios lie in ~0.25..1+."""

    sharp_best: float  # 90th percentile of the structured tiles' ratio
    sharp_median: float  # their median
    weak_axis_best: float  # 90th percentile of the weaker direction's ratio
    anisotropy: float  # median weaker / stronger direction ratio (1: same both ways)
    energy_best: float  # log10 of the 90th percentile fine gradient energy
    textured_fraction: float  # tiles with real structure
    noise_sigma: float  # noise on the detail image, 8-bit levels
    scale: float  # detail long side / stored long side (1: decoded at full size)
    edge_p90: float = 1.0  # steepness of the strongest edges, see `edge_steepness`
    edge_median: float = 1.0
    edge_weak_p90: float = 1.0  # the same along the less steep of x and y (motion blur)
    edge_contrast: float = 0.0  # log10 of the strongest edges' median coarse gradient


def _tile_sums(values: np.ndarray, gh: int, gw: int, size: int) -> np.ndarray:
    """Per-tile sums of a difference image one row or column short of gh*size x gw*size."""
    padded = np.zeros((gh * size, gw * size), dtype=values.dtype)
    padded[:values.shape[0], :values.shape[1]] = values
    return padded.reshape(gh, size, gw, size).sum(axis=(1, 3)).ravel()


def _block_sums(a: np.ndarray) -> np.ndarray:
    """Sums of the 2x2 blocks of an even-sized image (4x the one-octave-down image)."""
    rows = a[0::2] + a[1::2]
    return rows[:, 0::2] + rows[:, 1::2]


def _energy(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = a[:, 1:] - a[:, :-1], a[1:, :] - a[:-1, :]
    return dx * dx, dy * dy


def detail_stats(luma: np.ndarray, scale: float = 1.0, tile: int = TILE) -> DetailStats:
    """`luma`: H x W (uint8 or float, 0..255) at detail size; `scale`: detail / stored size."""
    if luma.ndim != 2 or min(luma.shape) < 8:
        raise ValueError("expected a 2-D luminance array of at least 8 x 8")
    tile = min(tile, *(s - s % 2 for s in luma.shape))
    gh, gw = luma.shape[0] // tile, luma.shape[1] // tile
    full = luma[:gh * tile, :gw * tile]
    if full.dtype != np.uint8:
        full = np.asarray(full, dtype=np.float32)
    # 8-bit levels stay integers (exact in float32): only the tiles measured become floats
    blocks = _block_sums(full.astype(np.int16) if full.dtype == np.uint8 else full)
    coarse = 0.25 * blocks.astype(np.float32)
    ex, ey = _energy(coarse)
    half = tile // 2
    per = half * (half - 1)
    cx, cy = _tile_sums(ex, gh, gw, half) / per, _tile_sums(ey, gh, gw, half) / per
    structure = cx + cy
    n = structure.size
    order = np.argsort(structure, kind="stable")
    noise = _noise_sigma([_tile(full, i, gw, tile) for i in order[: max(1, n // 10)]])
    chosen = order[-min(MAX_TILES, max(4, n // 4)):]
    chosen = chosen[structure[chosen] >= MIN_STRUCTURE]
    if chosen.size == 0:
        chosen = order[-1:]
    picked = np.stack([_tile(full, i, gw, tile) for i in chosen]).astype(np.float32)
    dx, dy = picked[:, :, 1:] - picked[:, :, :-1], picked[:, 1:, :] - picked[:, :-1, :]
    fx = np.einsum("nij,nij->n", dx, dx) / dx[0].size
    fy = np.einsum("nij,nij->n", dy, dy) / dy[0].size
    # white noise of sigma adds 2 sigma^2 to a fine difference, sigma^2 / 2 to a coarse one
    var = noise * noise
    fx, fy = np.maximum(fx - 2 * var, 0.0), np.maximum(fy - 2 * var, 0.0)
    kx = np.maximum(cx[chosen] - var / 2, 1e-3)
    ky = np.maximum(cy[chosen] - var / 2, 1e-3)
    rx, ry = fx / kx, fy / ky
    ratio = (fx + fy) / (kx + ky)
    weak, strong = np.minimum(rx, ry), np.maximum(rx, ry)
    edges = edge_steepness(full, blocks)
    return DetailStats(
        edge_p90=edges[0], edge_median=edges[1], edge_weak_p90=edges[2],
        edge_contrast=edges[3],
        sharp_best=float(np.percentile(ratio, 90)),
        sharp_median=float(np.median(ratio)),
        weak_axis_best=float(np.percentile(weak, 90)),
        anisotropy=float(np.median(weak / np.maximum(strong, 1e-6))),
        energy_best=float(math.log10(max(float(np.percentile(fx + fy, 90)), 1e-3))),
        textured_fraction=float(np.mean(structure >= MIN_STRUCTURE)),
        noise_sigma=noise,
        scale=float(scale),
    )


EDGE_SHARE = 0.005  # the strongest 0.5 % of coarse pixels are "the edges"
MIN_EDGE = 8.0  # levels per coarse pixel


def _steepness(full: np.ndarray, coarse_grad: np.ndarray, width: int,
               axis: int, picked: np.ndarray) -> np.ndarray:
    """Fine gradient (the larger of the 2x2 block's, along `axis`) over half the coarse one
    (`coarse_grad`: at the `picked` flat indices of a coarse image `width` wide)."""
    rows, cols = np.divmod(picked, width)
    h, w = full.shape
    best = np.zeros(picked.size, dtype=np.float32)
    for dr in (0, 1):
        for dc in (0, 1):
            r, c = 2 * rows + dr, 2 * cols + dc
            if axis == 1:
                c2 = np.minimum(c + 1, w - 1)
                g = np.abs(full[r, c2].astype(np.float32) - full[r, c])
            else:
                r2 = np.minimum(r + 1, h - 1)
                g = np.abs(full[r2, c].astype(np.float32) - full[r, c])
            best = np.maximum(best, g)
    return best / (coarse_grad / 2)


def edge_steepness(full: np.ndarray, blocks: np.ndarray) -> tuple[float, float, float, float]:
    """(p90, median, weaker-axis p90, log contrast) of how steep the strongest edges are.

    At each of the strongest coarse edges the fine-scale step is compared with the coarse
    one: a crisp edge climbs in one pixel (ratio 2-4), an edge blurred over several pixels
    climbs as fast at both scales (ratio ~1). Contrast cancels out; smooth content (sky,
    petals) has few strong edges and counts only where it has them.

    `blocks`: the 2x2 block sums of `full` (4x the coarse image); for 8-bit input its central
    differences are kept as integers, 8x the coarse gradient, and only the edges picked
    become floats."""
    gx = np.zeros_like(blocks)
    gy = np.zeros_like(blocks)
    gx[:, 1:-1] = np.abs(blocks[:, 2:] - blocks[:, :-2])
    gy[1:-1, :] = np.abs(blocks[2:, :] - blocks[:-2, :])
    min_edge = MIN_EDGE * 8
    results = []
    for axis, grad in ((1, gx), (0, gy)):
        flat = grad.ravel()
        sample = flat[::7]  # the cut-off from a sample: a full partition costs 10x more
        k = max(2, int(sample.size * EDGE_SHARE))
        cut = max(np.partition(sample, -k)[-k], min_edge)
        picked = np.flatnonzero(flat >= cut)
        if picked.size < 16:
            results.append((np.ones(1, dtype=np.float32), np.zeros(1, dtype=np.float32)))
            continue
        strength = flat[picked].astype(np.float32) / 8
        results.append((_steepness(full, strength, blocks.shape[1], axis, picked), strength))
    ratios = np.concatenate([r for r, _ in results])
    strengths = np.concatenate([s for _, s in results])
    p90 = [float(np.percentile(r, 90)) for r, _ in results]
    return (float(np.percentile(ratios, 90)), float(np.median(ratios)), min(p90),
            float(np.log10(max(float(np.median(strengths)), 1.0))))


def _tile(full: np.ndarray, index: int, gw: int, tile: int) -> np.ndarray:
    r, c = divmod(int(index), gw)
    return full[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile]


def _noise_sigma(tiles: list[np.ndarray]) -> float:
    """Immerkaer's estimate over the flattest tiles (texture there is least)."""
    t = np.stack(tiles).astype(np.float32)
    across = t[:, :, :-2] - 2 * t[:, :, 1:-1] + t[:, :, 2:]  # the 3x3 kernel is separable
    conv = across[:, :-2] - 2 * across[:, 1:-1] + across[:, 2:]
    return float(math.sqrt(math.pi / 2) * np.abs(conv).mean() / 6.0)
