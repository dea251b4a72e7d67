"""Auto-enhance: a reproducible recipe from the image's statistics (`recipes` applies it).

`auto_enhance(image)` looks at a small copy of the photo:
* white balance — gray world on the least colourful unclipped pixels, damped, luminance kept;
* exposure — stops that bring the log-average luminance towards middle gray (damped;
  brightening limited so highlights stay near the shoulder, darkening gentler still);
* contrast — stretches the 2nd–98th percentile spread towards 0.8 without clipping it;
* saturation — nudges the mean chroma towards a natural level;
* straighten — the tilt of a long straight near-horizontal edge (a horizon), if any;
* crop — towards the rule of thirds when the detail concentrates in a small area, moved
  (and grown, up to no crop) so that it holds every face box wholly with a margin; never
  when the photo has faces whose boxes are unknown (an older classification);
* straightening trims the corners: skipped when that would cut a known face.
"""

from __future__ import annotations

import math

import numpy as np
from gemroll_contracts import Crop, EditRecipe
from PIL import Image

from ..domain.framing import Box, contains, face_window, in_window, rotation_keeps_faces
from .recipes import LUMA, linear_to_srgb, shoulder, srgb_to_linear, straighten_scale, tone

ANALYSIS_SIDE = 512

def _analysis_pixels(image: Image.Image) -> np.ndarray:
    small = image.convert("RGB")
    if max(small.size) > ANALYSIS_SIDE:
        scale = ANALYSIS_SIDE / max(small.size)
        size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
        small = small.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(small, dtype=np.float32) / 255


def _white_balance(srgb: np.ndarray, lin: np.ndarray) -> tuple[float, float, float]:
    """Gray world on the least colourful quarter of the unclipped pixels (what should be
    neutral), damped and normalised so the luminance stays the same."""
    pixels, colours = lin.reshape(-1, 3), srgb.reshape(-1, 3)
    usable = (colours.max(-1) < 0.97) & (colours.min(-1) > 0.03)
    if usable.sum() >= 0.05 * len(usable):
        pixels, colours = pixels[usable], colours[usable]
    top = colours.max(-1)
    chroma = (top - colours.min(-1)) / (top + 1e-6)
    neutral = pixels[chroma <= np.percentile(chroma, 25)]
    means = neutral.mean(0)
    if means.min() <= 1e-4:
        return (1.0, 1.0, 1.0)
    raw = means.mean() / means
    raw = raw / float(raw @ LUMA)
    gains = np.clip(1 + 0.75 * (raw - 1), 0.6, 1.6)
    gains = gains / float(gains @ LUMA)
    if np.abs(gains - 1).max() < 0.03:
        return (1.0, 1.0, 1.0)
    return (round(float(gains[0]), 3), round(float(gains[1]), 3), round(float(gains[2]), 3))


def _exposure(lum: np.ndarray) -> float:
    key = float(np.exp(np.mean(np.log(lum + 1e-3))))
    stops = math.log2(0.18 / max(key, 1e-4)) * 0.8
    p99 = float(np.percentile(lum, 99))
    if stops > 0:
        stops = min(stops, max(0.0, math.log2(1.6 / max(p99, 1e-4))))
    else:  # darken gently, and bright scenes without clipped highlights (high key) less
        stops *= 0.6 if p99 >= 0.85 else 0.3
    stops = float(np.clip(stops, -1.5, 1.5))
    return 0.0 if abs(stops) < 0.1 else round(stops, 2)


def _contrast(luma_srgb: np.ndarray) -> float:
    """Stretch the 2nd–98th percentile spread towards 0.7 (damped) without clipping it."""
    low, high = (float(v) for v in np.percentile(luma_srgb, [2, 98]))
    spread = max(high - low, 0.05)
    contrast = 1 + 0.5 * (0.7 / spread - 1)
    limits = [1.4]
    if low < 0.5:
        limits.append(0.5 / (0.5 - low))
    if high > 0.5:
        limits.append(0.5 / (high - 0.5))
    contrast = float(np.clip(contrast, 0.85, max(0.85, min(limits))))
    return 1.0 if abs(contrast - 1) < 0.05 else round(contrast, 2)


def _saturation(srgb: np.ndarray) -> float:
    """Lift dull colours (mean HSV saturation below ~0.3), calm garish ones (above ~0.6)."""
    top, bottom = srgb.max(-1), srgb.min(-1)
    lit = top > 0.1
    if not lit.any():
        return 1.0
    chroma = float(((top - bottom) / (top + 1e-6))[lit].mean())
    if chroma < 0.3:
        saturation = 1 + 1.2 * (0.3 - chroma)
    elif chroma > 0.6:
        saturation = 1 - 0.8 * (chroma - 0.6)
    else:
        return 1.0
    saturation = float(np.clip(saturation, 0.85, 1.35))
    return 1.0 if abs(saturation - 1) < 0.05 else round(saturation, 2)


def _box(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a sliding window of 2·radius+1 along `axis`, edges replicated."""
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius + 1, radius)
    sums = np.cumsum(np.pad(values, pad, mode="edge"), axis=axis, dtype=np.float64)
    width = 2 * radius + 1
    upper = np.take(sums, np.arange(width, sums.shape[axis]), axis=axis)
    lower = np.take(sums, np.arange(0, sums.shape[axis] - width), axis=axis)
    return ((upper - lower) / width).astype(np.float32)


def _smooth(gray: np.ndarray, radius: int = 2, passes: int = 2) -> np.ndarray:
    """Repeated box blur (close to a Gaussian), edges replicated."""
    out = gray.astype(np.float32)
    for _ in range(passes):
        out = _box(_box(out, radius, 1), radius, 0)
    return out


def _gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = gray[1:-1, 2:] - gray[1:-1, :-2]
    gy = gray[2:, 1:-1] - gray[:-2, 1:-1]
    return gx, gy


def horizon_tilt(gray: np.ndarray) -> float:
    """Visual counter-clockwise tilt (degrees, within ±10) of the longest straight
    near-horizontal edge, or 0 when no such edge spans at least half the width.

    Strong edge pixels vote for their own orientation (gx/gy = tan(tilt) along a line
    `y + x·tan(tilt) = c`); for each candidate tilt, the pixels agreeing with it within 2°
    are projected along it (on a blurred copy), and the fullest 3-pixel band measures the
    longest line.
    """
    height, width = gray.shape
    if height < 16 or width < 16:
        return 0.0
    gx, gy = _gradients(_smooth(gray))
    magnitude = np.hypot(gx, gy)
    threshold = max(float(np.percentile(magnitude, 95)), 0.03)
    mask = (magnitude > threshold) & (np.abs(gy) > 3 * np.abs(gx))
    ys, xs = np.nonzero(mask)
    if len(xs) < width * 0.5:
        return 0.0
    orientation = np.degrees(np.arctan(gx[mask] / gy[mask]))
    xs_c = xs.astype(np.float64) - width / 2

    def line_strength(degrees: float) -> int:
        agree = np.abs(orientation - degrees) <= 2.0
        if agree.sum() < width * 0.5:
            return 0
        projected = np.rint(ys[agree] + xs_c[agree] * math.tan(math.radians(degrees)))
        projected = projected.astype(np.int64)
        counts = np.bincount(projected - projected.min())
        return int(np.convolve(counts, np.ones(3, dtype=np.int64), mode="same").max())

    coarse = max(np.arange(-10.0, 10.01, 0.5), key=lambda d: (line_strength(d), -abs(d)))
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1),
               key=lambda d: (line_strength(d), -abs(d)))
    if line_strength(fine) < 0.5 * width or abs(fine) < 0.5:
        return 0.0
    return round(float(fine), 1)


def _subject_crop(gray: np.ndarray, faces: tuple[Box, ...] = ()) -> Crop | None:
    """A rule-of-thirds crop around a compact subject, holding every face, or None."""
    gx, gy = _gradients(gray)
    energy = np.hypot(gx, gy)
    total = float(energy.sum())
    if total <= 0:
        return None
    height, width = energy.shape
    col = np.cumsum(energy.sum(0)) / total
    row = np.cumsum(energy.sum(1)) / total
    x0, x1 = np.searchsorted(col, 0.15) / width, np.searchsorted(col, 0.85) / width
    y0, y1 = np.searchsorted(row, 0.15) / height, np.searchsorted(row, 0.85) / height
    if (x1 - x0) * (y1 - y0) > 0.3:
        return None
    cx = float((energy.sum(0) * np.arange(width)).sum() / total / width)
    cy = float((energy.sum(1) * np.arange(height)).sum() / total / height)
    if min(math.hypot(cx - tx, cy - ty) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3)) < 0.08:
        return None  # already composed on a third
    size = 0.8
    tx = 1 / 3 if cx < 0.5 else 2 / 3
    ty = 1 / 3 if cy < 0.5 else 2 / 3
    keep = (*faces, (x0, y0, x1, y1)) if faces else ()  # the subject too, then
    window = face_window(width, height, width / height, keep, fill=size,
                         start=((cx - tx * size) * width, (cy - ty * size) * height))
    left, top = window[0] / width, window[1] / height
    size = (window[2] - window[0]) / width  # grown past 0.8 where faces need it
    if not (left <= x0 and x1 <= left + size and top <= y0 and y1 <= top + size):
        return None
    if not all(contains(window, face, width, height) for face in faces):
        return None  # the subject and the faces do not fit one crop: none
    # rounded outwards to the contract's 3 decimals, so that a face at the edge stays in
    size = math.ceil(size * 1000 - 1e-6) / 1000 + (0.001 if faces else 0.0)
    if size >= 0.95:
        return None  # the faces leave nothing worth cropping
    left = min(math.floor(left * 1000 + 1e-6) / 1000, round(1 - size, 3))
    top = min(math.floor(top * 1000 + 1e-6) / 1000, round(1 - size, 3))
    return Crop(left=left, top=top, right=round(left + size, 3), bottom=round(top + size, 3))


def _keeps_faces(image: Image.Image, crop: Crop | None, degrees: float,
                 faces: tuple[Box, ...]) -> bool:
    """Whether straightening by `degrees` after `crop` leaves every face in frame."""
    if not faces or abs(degrees) < 0.01:
        return True
    width, height = image.size
    window = (0.0, 0.0, float(width), float(height))
    if crop is not None:
        window = (crop.left * width, crop.top * height, crop.right * width,
                  crop.bottom * height)
    w, h = window[2] - window[0], window[3] - window[1]
    inside = [in_window(face, window, width, height) for face in faces]
    return rotation_keeps_faces(w, h, degrees, straighten_scale(round(w), round(h), degrees),
                                inside)


def auto_enhance(image: Image.Image, *, face_count: int | None = None,
                 faces: tuple[Box, ...] | None = None) -> EditRecipe:
    """The recipe for `image` (orientation already applied). `faces`: the classifier's face
    boxes (fractions of the image; None: not known, then a photo with `face_count` faces
    is not cropped at all)."""
    srgb = _analysis_pixels(image)
    lin = srgb_to_linear(srgb)
    gains = _white_balance(srgb, lin)
    lum = (lin * np.asarray(gains, dtype=np.float32)) @ LUMA
    exposure = _exposure(lum)
    luma_after = linear_to_srgb(shoulder(lum * np.float32(2.0 ** exposure)))
    contrast = _contrast(luma_after)
    partial = EditRecipe(exposure=exposure, contrast=contrast, saturation=1.0,
                         white_balance=gains, rotate_degrees=0.0)
    saturation = _saturation(tone(srgb, partial))
    gray = srgb @ LUMA
    rotate = -horizon_tilt(gray)
    if faces is None:
        crop = None if (face_count or 0) > 0 else _subject_crop(gray)
    else:
        crop = _subject_crop(gray, faces)
        if not _keeps_faces(image, crop, rotate, faces):
            rotate = 0.0
    return EditRecipe(exposure=exposure, contrast=contrast, saturation=saturation,
                      white_balance=gains, rotate_degrees=rotate + 0.0, crop=crop)
