"""A phone photo of a display showing a photo (a TV slideshow, a monitor, a laptop).

The display emits linear light through an RGB subpixel stripe with a black matrix, which the
camera samples after a perspective: the sampling makes real moire. The room around it is a
real photo, out of focus and darker (the camera exposes for the bright screen); the glass
reflects a soft band of light."""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw

from ..documents import perspective_coefficients
from . import optics
from .recipes import ScreenPhotoRecipe

_PANELS = {"monitor": (1920, 1080), "tv": (1920, 1080), "laptop": (1440, 900)}


def screen_photo(recipe: ScreenPhotoRecipe, content: Image.Image, room: Image.Image
                 ) -> Image.Image:
    rng = random.Random(recipe.seed)
    nrng = np.random.default_rng(recipe.seed)
    size = (recipe.long_side, recipe.long_side * 3 // 4)
    pw, ph = _PANELS[recipe.display]
    shown = _panel(content, (pw, ph), recipe.display, rng)
    # Screen corners in the photo: centred-ish, turned a little (yaw, pitch, roll).
    cx, cy = size[0] * rng.uniform(0.44, 0.56), size[1] * rng.uniform(0.42, 0.55)
    half_w = size[0] * rng.uniform(0.3, 0.42)
    half_h = half_w * ph / pw
    yaw, pitch, roll = rng.uniform(-0.12, 0.12), rng.uniform(-0.08, 0.08), rng.uniform(-4, 4)
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x = sx * half_w * (1 + pitch * sy)
        y = sy * half_h * (1 + yaw * sx)
        r = math.radians(roll)
        corners.append((cx + x * math.cos(r) - y * math.sin(r),
                        cy + x * math.sin(r) + y * math.cos(r)))
    linear = _room(room, size, rng)
    _bezel(linear, corners, recipe.display, rng)
    emission, mask = _emission(shown, corners, size)
    linear = linear * (1 - mask[..., None]) + emission * mask[..., None]
    linear += _glare(size, corners, rng)[..., None] * mask[..., None]
    linear *= np.array((0.94, 0.98, 1.06), dtype=np.float32)  # screens look cold
    linear = optics.convolve(linear, optics.disk_psf(1.2 * size[0] / 4000))
    linear = optics.sensor_noise(linear, nrng, rng.choice((4.0, 8.0, 16.0)))
    return optics.phone_sharpen(optics.to_srgb(linear), nrng)


def _panel(content: Image.Image, panel: tuple[int, int], display: str, rng: random.Random
           ) -> Image.Image:
    """What the display shows: the photo full screen (TV) or in a photo app's window."""
    pw, ph = panel
    screen = Image.new("RGB", panel, (0, 0, 0) if display == "tv" else (32, 33, 36))
    box = (0, 0, pw, ph) if display == "tv" else (pw // 20, ph // 10, pw - pw // 20,
                                                  ph - ph // 8)
    photo = content.convert("RGB")
    photo.thumbnail((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS)
    screen.paste(photo, (box[0] + (box[2] - box[0] - photo.width) // 2,
                         box[1] + (box[3] - box[1] - photo.height) // 2))
    if display != "tv":
        draw = ImageDraw.Draw(screen)
        draw.rectangle((0, 0, pw, ph // 22), fill=(58, 60, 64))
        for i in range(8):  # a film strip of thumbnails
            x = pw // 6 + i * pw // 12
            shade = rng.randrange(60, 200)
            draw.rectangle((x, ph - ph // 10, x + pw // 14, ph - ph // 40),
                           fill=(shade, shade - 20, shade - 40))
    return screen


def _room(room: Image.Image, size: tuple[int, int], rng: random.Random) -> np.ndarray:
    scale = max(size[0] / room.width, size[1] / room.height)
    small = room.resize((math.ceil(room.width * scale / 4), math.ceil(room.height * scale / 4)),
                        Image.Resampling.BILINEAR)
    lin = optics.convolve(optics.to_linear(small), optics.disk_psf(rng.uniform(4, 9)))
    big = optics.to_srgb(lin).resize((math.ceil(small.width * 4), math.ceil(small.height * 4)),
                                     Image.Resampling.BICUBIC)
    left, top = (big.width - size[0]) // 2, (big.height - size[1]) // 2
    big = big.crop((left, top, left + size[0], top + size[1]))
    return optics.expose(optics.to_linear(big), rng.uniform(-3.0, -1.8))


def _bezel(linear: np.ndarray, corners: list[tuple[float, float]], display: str,
           rng: random.Random) -> None:
    cx = sum(p[0] for p in corners) / 4
    cy = sum(p[1] for p in corners) / 4
    grow = 1.03 if display == "tv" else 1.06
    outer = [(cx + (x - cx) * grow, cy + (y - cy) * grow * 1.02) for x, y in corners]
    mask = Image.new("L", (linear.shape[1], linear.shape[0]), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon(outer, fill=255)
    if display in ("monitor", "tv"):  # the stand
        bottom = max(outer[2][1], outer[3][1])
        draw.rectangle((cx - linear.shape[1] * 0.03, bottom, cx + linear.shape[1] * 0.03,
                        bottom + linear.shape[0] * 0.12), fill=255)
    m = np.asarray(mask, np.float32)[..., None] / 255.0
    tone = np.float32(rng.uniform(0.004, 0.02))
    linear *= 1 - m
    linear += m * tone


def _emission(shown: Image.Image, corners: list[tuple[float, float]], size: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Each subpixel column lit with its channel's linear light, warped into the photo."""
    lin = optics.to_linear(shown)
    ph, pw = lin.shape[:2]
    rows = (np.arange(ph * 3) % 3 != 2).astype(np.float32)[:, None]  # the black matrix
    coeffs = perspective_coefficients(corners, (pw * 3, ph * 3))
    channels = []
    for c in range(3):
        stripe = (np.arange(pw * 3) % 3 == c).astype(np.float32)[None, :]
        sub = np.repeat(np.repeat(lin[..., c], 3, axis=0), 3, axis=1) * stripe * rows * 4.5
        warped = Image.fromarray(sub, "F").transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                                     Image.Resampling.BILINEAR)
        channels.append(np.asarray(warped, np.float32))
    ones = Image.fromarray(np.ones((ph * 3, pw * 3), np.float32), "F")
    mask = np.asarray(ones.transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                     Image.Resampling.BILINEAR), np.float32)
    return np.stack(channels, axis=-1) * np.float32(0.8), np.clip(mask, 0, 1)


def _glare(size: tuple[int, int], corners: list[tuple[float, float]], rng: random.Random
           ) -> np.ndarray:
    """A soft band of reflected window light across the glass."""
    w, h = size
    sw, sh = w // 8, h // 8
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    a = rng.uniform(0.6, 1.2)
    d = (xs / sw - rng.uniform(0.2, 0.8)) * math.cos(a) + (ys / sh - 0.5) * math.sin(a)
    band = np.exp(-(d / rng.uniform(0.05, 0.15)) ** 2) * rng.uniform(0.02, 0.08)
    img = Image.fromarray(band.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR)
    del corners
    return np.asarray(img, np.float32)
