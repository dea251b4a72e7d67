"""Preview images for each suggestion kind (images in, image out; no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from gemroll_contracts import EditRecipe
from PIL import Image

from ..domain.framing import Box, face_window
from . import layout as layouts
from .images import downscale
from .recipes import apply_recipe

BACKGROUND = (246, 245, 242)
Faces = Sequence[Sequence[Box] | None] | None
"""Per image, its face boxes (fractions; None: not known)."""


def edit_preview(original: Image.Image, recipe: EditRecipe, max_side: int = 1280) -> Image.Image:
    """The AI edit at preview size (the recipe is resolution independent)."""
    return downscale(apply_recipe(downscale(original, max_side * 2), recipe), max_side)


def fill_tile(image: Image.Image, width: int, height: int,
              faces: Sequence[Box] | None = None) -> Image.Image:
    """Scale to cover the tile, cropping the (pixel-rounding) excess: centred, or moved so
    that it holds the faces."""
    scale = max(width / image.width, height / image.height)
    crop_w, crop_h = min(image.width, width / scale), min(image.height, height / scale)
    left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
    if faces:
        left, top, _, _ = face_window(image.width, image.height, crop_w / crop_h, faces)
    return image.resize((width, height), Image.Resampling.LANCZOS,
                        box=(left, top, left + crop_w, top + crop_h), reducing_gap=2.0)


def paint(images: Sequence[Image.Image], layout: layouts.Layout,
          faces: Faces = None) -> Image.Image:
    canvas = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    for tile in layout.tiles:
        known = faces[tile.index] if faces is not None else None
        canvas.paste(fill_tile(images[tile.index], tile.width, tile.height, known),
                     (tile.x, tile.y))
    return canvas


def collage(images: Sequence[Image.Image], width: int = 1600,
            faces: Faces = None) -> Image.Image:
    """2 to 9 photos in justified rows, undistorted; a tile's rounding crop keeps the
    photo's faces."""
    if not 2 <= len(images) <= 9:
        raise ValueError(f"a collage takes 2 to 9 photos, not {len(images)}")
    gap = max(4, width // 200)
    plan = layouts.justified([im.width / im.height for im in images], width=width, gap=gap)
    return paint(images, plan, faces)


def highlight_cover(images: Sequence[Image.Image], width: int = 1200,
                    faces: Faces = None) -> Image.Image:
    """The best photo large, the next ones as a strip of thumbnails below (a portrait best
    photo shares the top row instead of towering over the strip)."""
    gap = max(3, width // 200)
    aspects = [im.width / im.height for im in images[:5]]
    if aspects[0] < 1 and len(aspects) > 1:
        plan = layouts.justified(aspects, width=width, gap=gap)
    else:
        plan = layouts.cover(aspects, width=width, gap=gap)
    return paint(images, plan, faces)
