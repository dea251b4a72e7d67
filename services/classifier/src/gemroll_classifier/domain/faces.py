"""Faces found in a photo: where they are and how sharp, nothing about who (numpy only).

A face is detected, never identified: no embedding, descriptor or identity is computed,
kept or published. Boxes and landmarks are fractions of the image's width and height, so they
hold for the analysed image, the original file and any preview of it alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MIN_PROBABILITY = 0.90
"""Detections below this are not counted: real faces score >= 0.99 with MTCNN, its false
positives (bark, fabric folds, foliage) mostly 0.7-0.95."""

MIN_SIZE = 0.04
"""Smallest counted face: the square root of its area fraction (its side relative to the
image's). Below that a face is a speck in the crowd, not a subject."""

MAX_FACES = 64
"""Most faces kept per photo (the largest ones); the contract's bound."""

_INNER = 0.15  # sharpness looks at the box less this share on each side (hair, background)
_MIN_PIXELS = 6  # a face box narrower than this (in the luminance array) has no usable detail


@dataclass(frozen=True)
class Face:
    """One detected face: its box and 5 landmarks (left eye, right eye, nose, left and right
    mouth corner) as fractions of the image's width (x) and height (y)."""

    x0: float
    y0: float
    x1: float
    y1: float
    probability: float
    landmarks: tuple[tuple[float, float], ...] = ()

    @property
    def width(self) -> float:
        return max(0.0, self.x1 - self.x0)

    @property
    def height(self) -> float:
        return max(0.0, self.y1 - self.y0)

    @property
    def area(self) -> float:
        """Fraction of the image's area."""
        return self.width * self.height

    @property
    def size(self) -> float:
        """The face's side relative to the image's (sqrt of the area fraction)."""
        return math.sqrt(self.area)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def face_from_pixels(box: Sequence[float], probability: float,
                     landmarks: Sequence[Sequence[float]] | None,
                     width: int, height: int) -> Face:
    """A detector's pixel box (x0, y0, x1, y1) and landmarks as a `Face` in fractions,
    clipped to the image (a detector's box may reach past the border)."""
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    points: tuple[tuple[float, float], ...] = ()
    if landmarks is not None:
        points = tuple((round(_clip01(x / width), 4), round(_clip01(y / height), 4))
                       for x, y in landmarks)
    return Face(x0=round(_clip01(x0 / width), 4), y0=round(_clip01(y0 / height), 4),
                x1=round(_clip01(x1 / width), 4), y1=round(_clip01(y1 / height), 4),
                probability=round(_clip01(probability), 4), landmarks=points)


def keep_faces(faces: Iterable[Face], *, min_probability: float = MIN_PROBABILITY,
               min_size: float = MIN_SIZE, limit: int | None = MAX_FACES) -> tuple[Face, ...]:
    """The faces that count: probable enough and not tiny, largest first (at most `limit`)."""
    kept = [f for f in faces if f.probability >= min_probability and f.size >= min_size]
    kept.sort(key=lambda f: (-f.area, -f.probability, f.x0, f.y0))
    return tuple(kept if limit is None else kept[:limit])


def face_sharpness(gray: np.ndarray, face: Face) -> float:
    """Contrast-normalised detail inside the face box, 0..1, on a luminance array of any
    scale. At the analysis size real portraits score 0.6-0.75, 0.3 after a 2-px Gaussian
    blur, about 0.2 after a 5-px one.

    The RMS of the 4-neighbour Laplacian over the box's inner part, divided by the RMS
    intensity deviation there: a brighter or darker exposure (gain and offset) cancels out,
    while blur removes fine detail much faster than it removes contrast. Mapped to 0..1 with
    r / (r + 0.25). A box with too few pixels or no contrast scores 0.
    """
    h, w = gray.shape[:2]
    dx, dy = face.width * _INNER, face.height * _INNER
    c0, c1 = int(round((face.x0 + dx) * w)), int(round((face.x1 - dx) * w))
    r0, r1 = int(round((face.y0 + dy) * h)), int(round((face.y1 - dy) * h))
    c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
    if c1 - c0 < _MIN_PIXELS or r1 - r0 < _MIN_PIXELS:
        return 0.0
    patch = np.asarray(gray[r0:r1, c0:c1], dtype=np.float64)
    lap = (patch[1:-1, :-2] + patch[1:-1, 2:] + patch[:-2, 1:-1] + patch[2:, 1:-1]
           - 4.0 * patch[1:-1, 1:-1])
    spread = float(patch.std())
    if spread <= 1e-9 * max(1.0, float(np.abs(patch).max())):
        return 0.0
    ratio = math.sqrt(float(np.mean(lap * lap))) / spread
    return round(ratio / (ratio + 0.25), 4)


@dataclass(frozen=True)
class FaceStats:
    """What the scorer may use about a photo's faces."""

    count: int = 0
    largest_area: float = 0.0  # area fraction of the largest counted face
    sharpest: float = 0.0  # face_sharpness of the sharpest counted face
    mean_sharpness: float = 0.0


NO_FACES = FaceStats()


def face_stats(faces: Iterable[Face], gray: np.ndarray, *,
               min_probability: float = MIN_PROBABILITY,
               min_size: float = MIN_SIZE) -> FaceStats:
    """Count, largest area and sharpness of the faces that count (see `keep_faces`; the
    sharpness of the `MAX_FACES` largest)."""
    kept = keep_faces(faces, min_probability=min_probability, min_size=min_size, limit=None)
    if not kept:
        return NO_FACES
    sharp = [face_sharpness(gray, f) for f in kept[:MAX_FACES]]
    return FaceStats(count=len(kept), largest_area=round(max(f.area for f in kept), 4),
                     sharpest=max(sharp), mean_sharpness=round(sum(sharp) / len(sharp), 4))
