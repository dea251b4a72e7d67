"""Pixel statistics of an RGB image (uint8, H x W x 3), numpy only.

Computed on the analysis-sized image (long side ~448 px) so thresholds do not depend on the
camera's resolution.
"""

from __future__ import annotations

import math

import numpy as np

from .features import PixelStats

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _LUMA


def laplacian(gray: np.ndarray) -> np.ndarray:
    return (gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1]
            - 4.0 * gray[1:-1, 1:-1])


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: low for blurry images."""
    return float(laplacian(gray).var())


def _tile_variances(arr: np.ndarray, grid: int) -> np.ndarray:
    h, w = arr.shape
    th, tw = h // grid, w // grid
    return arr[:th * grid, :tw * grid].reshape(grid, th, grid, tw).var(axis=(1, 3))


def directional_sharpness(gray: np.ndarray, grid: int = 4) -> float:
    """Second-derivative variance along the *weakest* of four directions, in the tile where
    that is highest. Motion blur flattens one direction (the Laplacian misses it), defocus
    all of them; a sharp subject on a soft background keeps one good tile."""
    h, w = gray.shape
    if h // grid < 6 or w // grid < 6:
        grid = 1
    c = gray[1:-1, 1:-1]
    second = (gray[1:-1, 2:] - 2 * c + gray[1:-1, :-2], gray[2:, 1:-1] - 2 * c + gray[:-2, 1:-1],
              gray[2:, 2:] - 2 * c + gray[:-2, :-2], gray[2:, :-2] - 2 * c + gray[:-2, 2:])
    weakest = np.min(np.stack([_tile_variances(d, grid) for d in second]), axis=0)
    return float(weakest.max())


def sharpest_tile_variance(lap: np.ndarray, grid: int = 4) -> float:
    """Laplacian variance of the sharpest tile of a grid x grid split: a photo with a sharp
    subject on a soft (bokeh) background is not blurry."""
    h, w = lap.shape
    th, tw = h // grid, w // grid
    if th < 4 or tw < 4:
        return float(lap.var())
    tiles = lap[:th * grid, :tw * grid].reshape(grid, th, grid, tw)
    return float(tiles.var(axis=(1, 3)).max())


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer (1996) fast noise variance estimate: sigma of additive noise in 0..255."""
    h, w = gray.shape
    if h < 3 or w < 3:
        return 0.0
    conv = (gray[:-2, :-2] - 2 * gray[:-2, 1:-1] + gray[:-2, 2:]
            - 2 * gray[1:-1, :-2] + 4 * gray[1:-1, 1:-1] - 2 * gray[1:-1, 2:]
            + gray[2:, :-2] - 2 * gray[2:, 1:-1] + gray[2:, 2:])
    return float(math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6.0 * (w - 2) * (h - 2)))


def colorfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def pixel_stats(rgb: np.ndarray) -> PixelStats:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 array")
    if rgb.shape[0] < 4 or rgb.shape[1] < 4:
        raise ValueError("image too small for statistics")
    gray = luminance(rgb)
    norm = gray / 255.0
    lap = laplacian(gray)

    r, g, b = (np.ascontiguousarray(rgb[..., i]) for i in range(3))
    packed = (r.astype(np.int32) << 16) | (g.astype(np.int32) << 8) | b
    flat = float(np.mean((packed[:-1, :-1] == packed[:-1, 1:])
                         & (packed[:-1, :-1] == packed[1:, :-1])))

    gx = np.abs(gray[:, 1:] - gray[:, :-1])
    gy = np.abs(gray[1:, :] - gray[:-1, :])
    edges = float((np.mean(gx > 48) + np.mean(gy > 48)) / 2)

    quant = (rgb[::2, ::2] >> 3).astype(np.int32)
    codes = (quant[..., 0] << 10) | (quant[..., 1] << 5) | quant[..., 2]
    counts = np.bincount(codes.ravel(), minlength=1 << 15)
    used = counts[counts > 0]  # a few thousand of the 32k colours: partition those
    top = (np.partition(used, -32)[-32:] if used.size > 32 else used).sum()
    palette = float(top / codes.size)

    mx = np.maximum(np.maximum(r, g), b).astype(np.float32)
    mn = np.minimum(np.minimum(r, g), b).astype(np.float32)
    unsaturated = (mx - mn) < 0.15 * np.maximum(mx, 1.0)
    paper = float(np.mean((norm > 0.75) & unsaturated))

    # Chai & Ngan skin-tone box in YCbCr, on every other pixel (gates the NSFW model).
    rs, gs, bs = (c[::2, ::2].astype(np.float32) for c in (r, g, b))
    cb = 128 - 0.168736 * rs - 0.331264 * gs + 0.5 * bs
    cr = 128 + 0.5 * rs - 0.418688 * gs - 0.081312 * bs
    skin = float(np.mean((cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)))

    sample = norm[::2, ::2]
    return PixelStats(
        luma_p99=float(np.percentile(sample, 99)),
        bright_fraction=float(np.mean(sample > 0.6)),
        brightness=float(norm.mean()),
        dark_fraction=float(np.mean(norm < 0.16)),
        blown_fraction=float(np.mean(norm > 0.96)),
        contrast=float(norm.std()),
        laplacian_var=float(lap.var()),
        sharpest_tile_var=sharpest_tile_variance(lap),
        directional_var=directional_sharpness(gray),
        noise_sigma=noise_sigma(gray),
        flat_fraction=flat,
        edge_density=edges,
        colorfulness=colorfulness(rgb),
        palette_fraction=palette,
        paper_fraction=paper,
        skin_fraction=skin,
    )
