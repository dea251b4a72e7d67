"""Blur as a camera makes it, for the training roll's blurred photos. Pure functions.

The blur happens in linear light, before the sensor grain and the phone's sharpening that
`imaging.camera_finish` adds to every training photo. The point-spread functions are the
training roll's own, not the holdout's (`holdout.optics`): defocus through an iris of 5-9
blades, a straight pan whose speed changes while the shutter is open, and hand tremor as a
few slow oscillations on both axes. Sizes are pixels of the frame being made.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .light import convolve, normalise, splat, to_linear, to_srgb

_SUPERSAMPLE = 4


def iris_psf(diameter: float, blades: int, rotation_deg: float) -> np.ndarray:
    """Defocus: the out-of-focus image of a point through a `blades`-sided iris opening of
    `diameter` pixels (corner to corner), anti-aliased by supersampling."""
    if blades < 3:
        raise ValueError("an iris has at least 3 blades")
    r = max(0.5, diameter / 2)
    size = int(math.ceil(r)) * 2 + 1
    ss = 2 * _SUPERSAMPLE
    coords = (np.arange(size * ss, dtype=np.float32) + 0.5) / ss - size / 2
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    inside = np.ones_like(xx, dtype=bool)
    apothem = r * math.cos(math.pi / blades)
    for k in range(blades):  # inside every blade's edge
        a = math.radians(rotation_deg) + 2 * math.pi * (k + 0.5) / blades
        inside &= xx * math.cos(a) + yy * math.sin(a) <= apothem
    return normalise(inside.astype(np.float32).reshape(size, ss, size, ss).sum(axis=(1, 3)))


def pan_psf(length: float, angle_deg: float, ease: float) -> np.ndarray:
    """Motion along a straight line of `length` pixels, the speed changing by `ease`
    (-0.9..0.9) from start to end: the image dwells longer where the camera was slower."""
    if not -1.0 < ease < 1.0:
        raise ValueError("ease must lie strictly between -1 and 1")
    length = max(1.0, length)
    tau = np.linspace(-1.0, 1.0, max(8, int(length * _SUPERSAMPLE * 4)))  # equal times
    s = tau + ease * tau * tau / 2  # position: the integral of speed 1 + ease * tau
    s = (s - s.min()) / (s.max() - s.min()) - 0.5
    rad = math.radians(angle_deg)
    return _draw(np.stack([s * length * math.cos(rad), s * length * math.sin(rad)], axis=1))


def tremor_psf(extent: float, rng: np.random.Generator) -> np.ndarray:
    """Hand tremor during the exposure: on each axis the sum of three oscillations of 0.4 to
    2.5 cycles per exposure (slower ones larger), scaled to `extent` pixels at its widest."""
    t = np.linspace(0.0, 1.0, max(64, int(extent * _SUPERSAMPLE * 12)))
    track = np.zeros((t.size, 2))
    for axis in range(2):
        for _ in range(3):
            cycles = float(rng.uniform(0.4, 2.5))
            track[:, axis] += (rng.normal(0, 1) / cycles
                               * np.sin(2 * math.pi * cycles * t + rng.uniform(0, 2 * math.pi)))
    track -= track.mean(axis=0)
    span = float(np.max(track.max(axis=0) - track.min(axis=0)))
    return _draw(track * (max(1.0, extent) / max(span, 1e-9)))


def _draw(points: np.ndarray) -> np.ndarray:
    """A kernel from equally timed points (pixels, centred on 0): each leaves the same light."""
    reach = float(np.abs(points).max())
    size = int(math.ceil(2 * reach)) + 3 | 1
    grid = np.zeros((size * _SUPERSAMPLE, size * _SUPERSAMPLE), np.float32)
    c = (size * _SUPERSAMPLE - 1) / 2
    for x, y in points:
        splat(grid, c + x * _SUPERSAMPLE, c + y * _SUPERSAMPLE, 1.0)
    return normalise(grid.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).sum(axis=(1, 3)))


def blur(image: Image.Image, psf: np.ndarray) -> Image.Image:
    """The image through `psf` in linear light (sRGB in, sRGB out)."""
    return to_srgb(convolve(to_linear(image), psf))
