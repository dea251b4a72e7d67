"""Light arithmetic shared by the sample builders: sRGB to linear light and back, and
point-spread functions drawn on a supersampled grid and applied in linear light."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.signal import fftconvolve


def _decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


_TO_LINEAR = _decode(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
_ENCODE_STEPS = 1 << 16  # linear light quantised to 16 bits before the 8-bit sRGB lookup
_x = (np.arange(_ENCODE_STEPS, dtype=np.float64) + 0.5) / _ENCODE_STEPS
_TO_SRGB = (np.where(_x <= 0.0031308, _x * 12.92, 1.055 * np.power(_x, 1 / 2.4) - 0.055)
            * 255.0 + 0.5).astype(np.uint8)
del _x


def to_linear(image: Image.Image) -> np.ndarray:
    """sRGB pixels -> linear light, float32 (H, W, 3) in 0..1."""
    return _TO_LINEAR[np.asarray(image.convert("RGB"))]


def to_srgb(linear: np.ndarray) -> Image.Image:
    index = np.clip(linear * _ENCODE_STEPS, 0, _ENCODE_STEPS - 1).astype(np.uint16)
    return Image.fromarray(_TO_SRGB[index], "RGB")


def splat(grid: np.ndarray, x: float, y: float, w: float) -> None:
    ix, iy = int(math.floor(x)), int(math.floor(y))
    fx, fy = x - ix, y - iy
    h, wd = grid.shape
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            if 0 <= iy + dy < h and 0 <= ix + dx < wd:
                grid[iy + dy, ix + dx] += w * wx * wy


def normalise(kernel: np.ndarray) -> np.ndarray:
    return (kernel / kernel.sum()).astype(np.float32)


def convolve(linear: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each channel through the PSF (FFT), the frame's edges mirrored rather than black."""
    if kernel.shape == (1, 1):
        return linear
    ph, pw = kernel.shape[0] // 2, kernel.shape[1] // 2
    out = np.empty_like(linear)
    for ch in range(linear.shape[2]):
        if max(kernel.shape) <= 7:  # direct is faster for small kernels
            out[..., ch] = ndimage.convolve(linear[..., ch], kernel, mode="mirror")
            continue
        padded = np.pad(linear[..., ch], ((ph, ph), (pw, pw)), mode="reflect")
        out[..., ch] = fftconvolve(padded, kernel, mode="valid")
    return np.clip(out, 0.0, None)
