"""Where a crop may go: never through a face (pure, stdlib only).

Faces come from the classifier as boxes (left, top, right, bottom), fractions of the
orientation-corrected image's width and height; detected, never identified. A crop window
takes every face in wholly, with a small margin, when a window of its aspect can; otherwise
the largest faces it can hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Box = tuple[float, float, float, float]
"""(left, top, right, bottom): fractions of the image for faces, pixels for windows."""

FACE_MARGIN = 0.15
"""Grown by this share of its width and height on each side, a face box keeps the hair, ears
and chin that the detector's box leaves out; dropped where only the bare box fits."""


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _in_pixels(face: Box, width: float, height: float, margin: float) -> Box:
    left, top, right, bottom = face
    dx, dy = (right - left) * margin, (bottom - top) * margin
    return (max(0.0, (left - dx) * width), max(0.0, (top - dy) * height),
            min(width, (right + dx) * width), min(height, (bottom + dy) * height))


def largest_window(width: float, height: float, aspect: float) -> tuple[float, float]:
    """The largest (width, height) of aspect `aspect` (width / height) inside the image."""
    if aspect <= 0:
        raise ValueError("the aspect ratio must be positive")
    if width / height > aspect:
        return height * aspect, height
    return width, width / aspect


def faces_to_keep(width: float, height: float, window: tuple[float, float],
                  faces: Iterable[Box], margin: float = FACE_MARGIN
                  ) -> tuple[Box, Box] | None:
    """What a window of size `window` must hold: the pixel union of the faces that fit in it
    together (largest first; a face that does not fit with those is left out), bare and
    grown by their margins. None without faces."""
    limit_w, limit_h = window
    bare: Box | None = None
    grown: Box | None = None
    for face in sorted(faces, key=_area, reverse=True):
        union = _union(bare, _in_pixels(face, width, height, 0))
        if union[2] - union[0] <= limit_w + 1e-9 and union[3] - union[1] <= limit_h + 1e-9:
            bare, grown = union, _union(grown, _in_pixels(face, width, height, margin))
    if bare is None or grown is None:
        return None
    return bare, grown


def _place(extent: float, size: float, want: float,
           keep: tuple[tuple[float, float], tuple[float, float]] | None) -> float:
    """The window's start on one axis of length `extent`: near `want`, inside the image,
    holding the bare faces' interval, and their margins too where it can (else centred on
    them)."""
    lo, hi = 0.0, extent - size
    if keep is None:
        return min(max(want, lo), hi)
    (bare_lo, bare_hi), (grown_lo, grown_hi) = keep
    lo, hi = max(lo, bare_hi - size), min(hi, bare_lo)
    if hi < lo:  # only by rounding: the kept faces fit the window by construction
        hi = lo
    soft_lo, soft_hi = max(lo, grown_hi - size), min(hi, grown_lo)
    if soft_lo <= soft_hi:
        return min(max(want, soft_lo), soft_hi)
    return min(max((grown_lo + grown_hi - size) / 2, lo), hi)


def face_window(width: float, height: float, aspect: float, faces: Sequence[Box] = (), *,
                fill: float = 1.0, start: tuple[float, float] | None = None,
                grow: bool = True, margin: float = FACE_MARGIN) -> Box:
    """A crop window (pixels) of aspect `aspect` in a `width` x `height` image.

    Its size is `fill` times the largest window of that aspect; with `grow` it grows (up to
    the largest) until it holds the faces. It starts at `start` (its wanted top-left corner;
    default: centred), moved just as far as needed to contain every face box wholly, with its
    margin where there is room, when it can; otherwise the largest faces that fit together.
    """
    max_w, max_h = largest_window(width, height, aspect)
    fill = min(1.0, max(fill, 1e-6))
    win_w, win_h = max_w * fill, max_h * fill
    keep = faces_to_keep(width, height, (max_w, max_h) if grow else (win_w, win_h), faces,
                         margin)
    if keep is not None and grow:
        bare, grown = keep
        need = max((grown[2] - grown[0]) / win_w, (grown[3] - grown[1]) / win_h)
        if need * fill > 1.0:  # the margins do not fit even the largest: the bare boxes do
            need = max((bare[2] - bare[0]) / win_w, (bare[3] - bare[1]) / win_h)
        k = min(1.0 / fill, max(1.0, need))
        win_w, win_h = win_w * k, win_h * k
    want_x, want_y = start if start is not None else ((width - win_w) / 2,
                                                      (height - win_h) / 2)
    x_keep = ((keep[0][0], keep[0][2]), (keep[1][0], keep[1][2])) if keep else None
    y_keep = ((keep[0][1], keep[0][3]), (keep[1][1], keep[1][3])) if keep else None
    left = _place(width, win_w, want_x, x_keep)
    top = _place(height, win_h, want_y, y_keep)
    return (left, top, left + win_w, top + win_h)


def contains(window: Box, face: Box, width: float, height: float, tolerance: float = 0.5
             ) -> bool:
    """Whether the pixel `window` holds the face box (fractions) wholly, within `tolerance`
    pixels."""
    left, top, right, bottom = _in_pixels(face, width, height, 0)
    return (left >= window[0] - tolerance and top >= window[1] - tolerance
            and right <= window[2] + tolerance and bottom <= window[3] + tolerance)


def cuts_a_face(window: Box, faces: Iterable[Box], width: float, height: float) -> bool:
    """Whether the window goes through a face: overlaps it without holding it wholly."""
    for face in faces:
        left, top, right, bottom = _in_pixels(face, width, height, 0)
        overlaps = (left < window[2] and right > window[0] and top < window[3]
                    and bottom > window[1])
        if overlaps and not contains(window, face, width, height):
            return True
    return False


def in_window(face: Box, window: Box, width: float, height: float) -> Box:
    """A face box (fractions of the image) as fractions of the cropped `window` (pixels)."""
    w, h = window[2] - window[0], window[3] - window[1]
    return ((face[0] * width - window[0]) / w, (face[1] * height - window[1]) / h,
            (face[2] * width - window[0]) / w, (face[3] * height - window[1]) / h)


def rotation_keeps_faces(width: float, height: float, degrees: float, scale: float,
                         faces: Iterable[Box]) -> bool:
    """Whether rotating the image counter-clockwise by `degrees` about its centre and keeping
    the centred `scale`-sized rectangle (straightening) leaves every face wholly in."""
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = width / 2, height / 2
    half_w, half_h = width * scale / 2, height * scale / 2
    for face in faces:
        left, top, right, bottom = _in_pixels(face, width, height, 0)
        for x, y in ((left, top), (right, top), (left, bottom), (right, bottom)):
            dx, dy = x - cx, y - cy  # y grows downwards: counter-clockwise on screen
            rx, ry = dx * cos + dy * sin, -dx * sin + dy * cos
            if abs(rx) > half_w + 0.5 or abs(ry) > half_h + 0.5:
                return False
    return True
