"""What a recipe means: `apply_recipe(image, recipe)` is its single definition, in this
order: crop (normalised box of the orientation-corrected original), straighten (rotate
counter-clockwise by `rotate_degrees` and trim to the largest same-aspect rectangle without
empty corners), then per pixel: white-balance gains and exposure in linear light, a soft
highlight shoulder, contrast around mid-gray, saturation around each pixel's luminance.
"""

from __future__ import annotations

import math

import numpy as np
from gemroll_contracts import Crop, EditRecipe
from PIL import Image

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
KNEE = 0.8
"""Linear values above the knee roll off softly instead of clipping."""
STRIPE_ROWS = 256
IDENTITY = EditRecipe(exposure=0.0, contrast=1.0, saturation=1.0, white_balance=(1.0, 1.0, 1.0),
                      rotate_degrees=0.0, crop=None)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


_SRGB_LUT = srgb_to_linear(np.arange(256, dtype=np.float64) / 255)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(
        np.float32)


def shoulder(v: np.ndarray) -> np.ndarray:
    out = np.asarray(v, dtype=np.float32).copy()
    over = out > KNEE
    out[over] = KNEE + (1 - KNEE) * (1 - np.exp(-(out[over] - KNEE) / (1 - KNEE)))
    return out


_TO_SRGB_STEPS = 16383
_TO_SRGB_LUT = linear_to_srgb(np.linspace(0.0, 1.0, _TO_SRGB_STEPS + 1))
"""Linear -> sRGB by table (at most 0.2 of an 8-bit level off the exact curve)."""


def linear_to_srgb_fast(x: np.ndarray) -> np.ndarray:
    index = np.clip(x, 0.0, 1.0) * np.float32(_TO_SRGB_STEPS) + np.float32(0.5)
    return _TO_SRGB_LUT[index.astype(np.int32)]


def is_identity_tone(recipe: EditRecipe) -> bool:
    return (recipe.exposure == 0 and recipe.contrast == 1 and recipe.saturation == 1
            and tuple(recipe.white_balance) == (1.0, 1.0, 1.0))


def tone(block: np.ndarray, recipe: EditRecipe) -> np.ndarray:
    """The per-pixel part of a recipe on an sRGB uint8 (…, 3) array; returns float32 0..1."""
    lin = _SRGB_LUT[block] if block.dtype == np.uint8 else srgb_to_linear(block)
    gains = np.asarray(recipe.white_balance, dtype=np.float32) * np.float32(2.0 ** recipe.exposure)
    lin *= gains
    srgb = linear_to_srgb_fast(shoulder(lin))
    if recipe.contrast != 1:
        srgb -= 0.5
        srgb *= np.float32(recipe.contrast)
        srgb += 0.5
    if recipe.saturation != 1:
        lum = (srgb @ LUMA)[..., None]
        srgb -= lum
        srgb *= np.float32(recipe.saturation)
        srgb += lum
    return np.clip(srgb, 0.0, 1.0, out=srgb)


def straighten_scale(width: int, height: int, degrees: float) -> float:
    """Scale of the largest same-aspect rectangle inside the image rotated by `degrees`."""
    theta = math.radians(abs(degrees))
    long_side, short_side = max(width, height), min(width, height)
    return 1.0 / (math.cos(theta) + (long_side / short_side) * math.sin(theta))


def crop_box(size: tuple[int, int], crop: Crop) -> tuple[int, int, int, int]:
    width, height = size
    box = (round(crop.left * width), round(crop.top * height),
           round(crop.right * width), round(crop.bottom * height))
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        raise ValueError(f"empty crop box {crop.model_dump()}")
    return box


def apply_recipe(image: Image.Image, recipe: EditRecipe) -> Image.Image:
    """The rendition of `image` (orientation already applied) under `recipe`."""
    image = image.convert("RGB")
    if recipe.crop is not None:
        image = image.crop(crop_box(image.size, recipe.crop))
    if abs(recipe.rotate_degrees) >= 0.01:
        width, height = image.size
        rotated = image.rotate(recipe.rotate_degrees, resample=Image.Resampling.BICUBIC)
        scale = straighten_scale(width, height, recipe.rotate_degrees)
        inner_w, inner_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
        left, top = (width - inner_w) // 2, (height - inner_h) // 2
        image = rotated.crop((left, top, left + inner_w, top + inner_h))
    if is_identity_tone(recipe):
        return image.copy()
    pixels = np.asarray(image)
    out = np.empty_like(pixels)
    for row in range(0, pixels.shape[0], STRIPE_ROWS):
        toned = tone(pixels[row:row + STRIPE_ROWS], recipe)
        out[row:row + STRIPE_ROWS] = np.rint(toned * 255).astype(np.uint8)
    return Image.fromarray(out, "RGB")


