"""A holdout photo from its recipe: crop, scene look, exposure, PSF, sensor, phone, chat app."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from . import optics
from .drafts import frame_pixels
from .recipes import Frame, PhotoRecipe
from .sources import NEWSPAPER, PHOTO_BY_KEY, PLANT_TRIMAP, Box

Loader = Callable[[str], Image.Image]  # photo key (or a file path) -> RGB image


def make_photo(recipe: PhotoRecipe, load: Loader) -> Image.Image:
    rng = np.random.default_rng(recipe.seed)
    frame = recipe.frame
    image = _cut(load(frame.source), frame)
    long_side = max(image.size)
    scale = long_side / 4000  # a look's sizes are at a 4000-pixel long side
    linear = optics.to_linear(image)
    subject = _subject_in(frame)
    if recipe.look == "fog":
        linear = optics.haze(linear, rng, recipe.amount)
    elif recipe.look == "bokeh":
        alpha = _alpha(frame, subject, image.size, load)
        linear = optics.soft_background(linear, alpha, max(2.0, recipe.amount * scale))
    elif recipe.look == "low_key":
        linear = optics.low_key(linear, subject, recipe.amount)
    elif recipe.look == "night" and recipe.amount:
        linear = optics.night_lights(linear, recipe.amount)
    elif recipe.look == "dark":
        linear = optics.expose(linear, optics.exposure_for(linear, recipe.amount))
    if recipe.ev:
        linear = optics.expose(linear, recipe.ev)
    if recipe.blur is not None:
        linear = optics.convolve(linear, _psf(recipe, rng))
    linear = optics.sensor_noise(linear, rng, recipe.iso / 100)
    if recipe.look == "bw":
        linear = optics.monochrome(linear, recipe.mix)
    if recipe.look == "dark":
        linear = linear * np.array(rng.choice(_CASTS), dtype=np.float32)
    out = optics.to_srgb(linear)
    if recipe.iso >= 800:  # a phone's noise reduction at high ISO
        out = out.filter(ImageFilter.GaussianBlur(0.6))
    out = optics.phone_sharpen(out, rng)
    if recipe.delivered:
        out = optics.downscale(out, recipe.delivered)
    return out


_CASTS = ((1.08, 1.0, 0.86), (0.92, 0.98, 1.1), (1.0, 1.0, 1.0))  # tungsten, cold, neutral


def _cut(source: Image.Image, frame: Frame) -> Image.Image:
    image = optics.crop_box(source, frame.box)
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if frame.flip else image


def _psf(recipe: PhotoRecipe, rng: np.random.Generator) -> np.ndarray:
    blur = recipe.blur
    assert blur is not None
    size = blur.px
    if blur.kind == "motion":
        return optics.line_psf(size, blur.angle)
    if blur.kind == "shake":
        return optics.shake_psf(size, rng)
    return optics.disk_psf(size)


def _subject_in(frame: Frame) -> Box:
    """The source's subject box in the crop's coordinates."""
    photo = PHOTO_BY_KEY.get(frame.source, NEWSPAPER)
    sx0, sy0, sx1, sy1 = photo.subject
    x0, y0, x1, y1 = frame.box
    w, h = x1 - x0, y1 - y0
    box = [min(1.0, max(0.0, (sx0 - x0) / w)), min(1.0, max(0.0, (sy0 - y0) / h)),
           min(1.0, max(0.0, (sx1 - x0) / w)), min(1.0, max(0.0, (sy1 - y0) / h))]
    if frame.flip:
        box[0], box[2] = 1 - box[2], 1 - box[0]
    return box[0], box[1], box[2], box[3]


def _alpha(frame: Frame, subject: Box, size: tuple[int, int], load: Loader) -> np.ndarray:
    """The subject's mask: OpenCV's real trimap for the potted plant, else an ellipse."""
    if frame.source == "potted_plant":
        trimap = _cut(load(PLANT_TRIMAP).convert("L"), frame).resize(size)
        soft = trimap.filter(ImageFilter.GaussianBlur(max(1.0, max(size) / 400)))
        return np.asarray(soft, dtype=np.float32) / 255.0
    return optics.ellipse_alpha((size[1], size[0]), subject, 0.25)


def photo_pixels(recipe: PhotoRecipe) -> tuple[int, int]:
    """The captured size (before a chat app shrinks it)."""
    if recipe.frame.source == NEWSPAPER.key:
        return NEWSPAPER.size
    return frame_pixels(recipe.frame)
