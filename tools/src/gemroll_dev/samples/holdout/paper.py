"""Holdout documents (drawn with Pillow from texts and layouts that training does not use),
and how a phone photographs them: lying curled on a real table, under uneven light with the
phone's shadow, keystoned; or a flatbed scan."""

from __future__ import annotations

import math
import random
import textwrap
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy.ndimage import map_coordinates

from . import optics
from .recipes import PaperRecipe

FONTS = Path("/usr/share/fonts/truetype/dejavu")
_INK = (30, 30, 36)
_SHOPS = (("FRESKO MARKT", "Filiale 0815 \u00b7 Stationsplein 12"),
          ("Caf\u00e9 Lindeboom", "Oudegracht 201 \u00b7 Utrecht"),
          ("HARDWARE & CO", "Unit 4, Lakeside Retail Park"),
          ("Farm\u00e1cia Central", "Rua Direita 33"),
          ("Island Dive Shop", "Boduthakurufaanu Magu, Mal\u00e9"))
_GOODS = ("Oat milk 1L", "Sourdough loaf", "Tomatoes vine", "Espresso", "Flat white",
          "Croissant", "Wood screws 4x40", "Masking tape", "Sunscreen SPF50", "Ibuprofen 400",
          "Apples Elstar", "Gouda young 48+", "Sparkling water", "Batteries AA x8",
          "Snorkel mask rental", "Paint brush 50mm", "Muesli crunchy", "Chai latte")


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONTS / f"DejaVu{name}.ttf"
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def render(kind: str, seed: int, text_file: Path | None) -> Image.Image:
    rng = random.Random(seed)
    if kind == "receipt":
        return _receipt(rng)
    if kind == "page":
        assert text_file is not None
        return _page(rng, text_file)
    if kind == "bill":
        return _bill(rng)
    return _ticket(rng)


def _receipt(rng: random.Random) -> Image.Image:
    """80 mm thermal paper at 203 dpi, printed a little faint."""
    shop, address = rng.choice(_SHOPS)
    lines = [(shop, "b", 34, "c"), (address, "", 20, "c"), ("", "", 12, "l")]
    total = 0.0
    for good in rng.sample(_GOODS, rng.randint(4, 11)):
        qty, price = rng.choice((1, 1, 1, 2, 3)), rng.randrange(79, 1999) / 100
        total += qty * price
        lines.append((f"{qty} x {good[:18]:<18}{qty * price:>8.2f}", "", 22, "l"))
    vat = total * 0.09 / 1.09
    lines += [("-" * 34, "", 22, "l"), (f"{'TOTAL EUR':<24}{total:>10.2f}", "b", 26, "l"),
              (f"BTW 9%  {vat:>8.2f}   netto {total - vat:>8.2f}", "", 20, "l"),
              ("", "", 10, "l"), (f"PIN  **** **** **** {rng.randrange(1000, 9999)}", "", 20, "l"),
              (f"AUTH {rng.randrange(100000, 999999)}  TERM {rng.randrange(10, 99)}", "", 20, "l"),
              ("", "", 16, "l"), ("Bedankt en tot ziens!", "", 22, "c")]
    width = 576
    height = 60 + sum(s + 10 for _, _, s, _ in lines) + 150
    img = Image.new("RGB", (width, height), (252, 250, 246))
    draw = ImageDraw.Draw(img)
    y = 40
    ink = rng.randrange(40, 90)
    for text, style, size, align in lines:
        f = font("SansMono-Bold" if style == "b" else "SansMono", size)
        w = draw.textlength(text, font=f)
        x = (width - w) / 2 if align == "c" else 24
        draw.text((x, y), text, fill=(ink, ink, ink + 4), font=f)
        y += size + 10
    x = 60
    while x < width - 60:  # a barcode
        bar = rng.choice((2, 2, 4, 6))
        draw.rectangle((x, y + 20, x + bar - 1, y + 110), fill=(ink, ink, ink))
        x += bar + rng.choice((2, 4))
    return img


def _page(rng: random.Random, text_file: Path) -> Image.Image:
    """An A4 page (150 dpi) of a real licence text from Debian's base-files."""
    words = text_file.read_text(encoding="utf-8", errors="replace").split()
    start = rng.randrange(0, max(1, len(words) - 600))
    body = " ".join(words[start:start + 520])
    img = Image.new("RGB", (1240, 1754), (253, 253, 250))
    draw = ImageDraw.Draw(img)
    draw.text((110, 90), text_file.name.replace("-", " "), fill=_INK, font=font("Serif-Bold", 34))
    draw.line((110, 140, 1130, 140), fill=(120, 120, 120), width=2)
    y = 170
    for line in textwrap.wrap(body, 78):
        draw.text((110, y), line, fill=_INK, font=font("Serif", 21))
        y += 30
        if y > 1620:
            break
    draw.text((600, 1680), str(rng.randrange(2, 14)), fill=_INK, font=font("Serif", 20))
    return img


def _bill(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (1240, 1754), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    hue = rng.choice(((0, 110, 80), (20, 70, 150), (170, 60, 20)))
    draw.rectangle((90, 80, 300, 170), fill=hue)
    draw.text((110, 105), "GRIDLY", fill=(255, 255, 255), font=font("Sans-Bold", 42))
    draw.text((760, 90), "Energy statement", fill=_INK, font=font("Sans-Bold", 34))
    draw.text((760, 140), f"Account {rng.randrange(10**7, 10**8)}", fill=_INK,
              font=font("Sans", 22))
    for i, line in enumerate(("Mr. and Mrs. de Vries", f"Kanaalstraat {rng.randrange(2, 180)}",
                              "3531 CJ Utrecht")):
        draw.text((110, 260 + 32 * i), line, fill=_INK, font=font("Sans", 24))
    top = 420
    heads = ("Period", "Meter", "Start", "End", "kWh", "Amount")
    xs = (110, 330, 520, 680, 840, 990)
    draw.rectangle((100, top, 1140, top + 44), fill=(235, 238, 240))
    for x, h in zip(xs, heads, strict=True):
        draw.text((x, top + 10), h, fill=_INK, font=font("Sans-Bold", 20))
    total = 0.0
    for r in range(6):
        y = top + 54 + r * 42
        kwh = rng.randrange(120, 420)
        amount = kwh * 0.31
        total += amount
        cells = (f"{r + 1:02d}/2025", f"E{rng.randrange(1000, 9999)}", f"{rng.randrange(10**4)}",
                 f"{rng.randrange(10**4)}", str(kwh), f"\u20ac {amount:.2f}")
        for x, c in zip(xs, cells, strict=True):
            draw.text((x, y), c, fill=_INK, font=font("Sans", 20))
        draw.line((100, y + 36, 1140, y + 36), fill=(210, 210, 210))
    chart = top + 360
    draw.text((110, chart), "Your use, last 12 months", fill=_INK, font=font("Sans-Bold", 22))
    for m in range(12):
        h = rng.randrange(60, 240)
        draw.rectangle((120 + m * 80, chart + 300 - h, 170 + m * 80, chart + 300), fill=hue)
    draw.rectangle((700, chart + 360, 1140, chart + 450), outline=_INK, width=3)
    draw.text((720, chart + 385), f"To pay: \u20ac {total:,.2f}", fill=_INK,
              font=font("Sans-Bold", 30))
    for x in range(90, 1150, 24):
        draw.line((x, 1560, x + 12, 1560), fill=(120, 120, 120), width=2)
    draw.text((110, 1590), f"IBAN NL{rng.randrange(10, 99)} GRID 0{rng.randrange(10**8, 10**9)}",
              fill=_INK, font=font("SansMono", 24))
    return img


def _ticket(rng: random.Random) -> Image.Image:
    """A printed train ticket with a QR-style code."""
    img = Image.new("RGB", (1400, 620), (250, 250, 246))
    draw = ImageDraw.Draw(img)
    band = rng.choice(((230, 180, 0), (200, 20, 40), (0, 90, 170)))
    draw.rectangle((0, 0, 1400, 110), fill=band)
    draw.text((40, 30), "RAILPASS \u00b7 e-ticket", fill=(255, 255, 255),
              font=font("Sans-Bold", 40))
    a, b = rng.sample(("UTRECHT C", "LEUVEN", "BRUSSEL-Z", "AMSTERDAM C", "ANTWERPEN-C",
                       "KESWICK"), 2)
    draw.text((40, 160), f"{a}  \u2192  {b}", fill=_INK, font=font("Sans-Bold", 52))
    fields = (("Date", f"{rng.randrange(1, 28):02d}.0{rng.randrange(1, 9)}.2025"),
              ("Train", f"IC {rng.randrange(100, 999)}"),
              ("Coach / seat", f"{rng.randrange(1, 12)} / {rng.randrange(11, 88)}"),
              ("Class", rng.choice(("1", "2"))))
    for i, (k, v) in enumerate(fields):
        draw.text((40 + i * 230, 280), k, fill=(110, 110, 110), font=font("Sans", 22))
        draw.text((40 + i * 230, 312), v, fill=_INK, font=font("Sans-Bold", 30))
    qr = np.asarray([[rng.random() < 0.5 for _ in range(29)] for _ in range(29)])
    for cy, cx in ((0, 0), (0, 22), (22, 0)):  # finder squares
        qr[cy:cy + 7, cx:cx + 7] = True
        qr[cy + 1:cy + 6, cx + 1:cx + 6] = False
        qr[cy + 2:cy + 5, cx + 2:cx + 5] = True
    for y, x in zip(*np.nonzero(qr), strict=True):
        draw.rectangle((1030 + x * 11, 180 + y * 11, 1040 + x * 11, 190 + y * 11), fill=_INK)
    return img


# --- presentation ----------------------------------------------------------------------------
def photographed(doc: Image.Image, table: Image.Image, recipe: PaperRecipe) -> Image.Image:
    rng = random.Random(recipe.seed)
    nrng = np.random.default_rng(recipe.seed)
    portrait = doc.height > doc.width * 1.1
    long_side = recipe.long_side
    size = (long_side * 3 // 4, long_side) if portrait else (long_side, long_side * 3 // 4)
    w, h = doc.size
    scale = rng.uniform(0.55, 0.85) * min(size[0] / w, size[1] / h)
    if scale > 1.1:  # resample the print smoothly to about the size the camera sees it
        doc = doc.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
        w, h = doc.size
        scale = 1.0
    angle = math.radians(rng.uniform(-25, 25))
    cx, cy = size[0] * rng.uniform(0.42, 0.58), size[1] * rng.uniform(0.42, 0.58)
    keystone = rng.uniform(0.03, 0.12)  # the far edge looks narrower
    curl = rng.uniform(0.0, 0.04) * h * (3 if h > 2 * w else 1)  # receipts curl most
    # Inverse mapping: for each camera pixel near the paper, the point of the paper seen there.
    reach = math.hypot(w, h + 2 * curl) * scale / 2 + 4
    bx0, by0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    bx1, by1 = min(size[0], int(cx + reach) + 1), min(size[1], int(cy + reach) + 1)
    ys, xs = np.mgrid[by0:by1, bx0:bx1].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    x = dx * math.cos(angle) + dy * math.sin(angle)
    y = -dx * math.sin(angle) + dy * math.cos(angle)
    del xs, ys, dx, dy
    v = y / scale + h / 2
    for _ in range(4):
        u = x / (scale * (1 - keystone * (0.5 - v / h))) + w / 2
        v = y / scale + h / 2 - curl * (1 - np.cos(2 * np.pi * u / w)) / 2
    paper = np.pad(np.asarray(doc.convert("RGB"), np.float32), ((2, 2), (2, 2), (0, 0)))
    ones = np.pad(np.ones((h, w), np.float32), 2)
    coords = np.stack([v + 2, u + 2])
    mask = np.zeros((size[1], size[0]), np.float32)
    mask[by0:by1, bx0:bx1] = map_coordinates(ones, coords, order=1, cval=0.0)
    warped = np.zeros((size[1], size[0], 3), np.float32)
    for c in range(3):
        warped[by0:by1, bx0:bx1, c] = map_coordinates(paper[..., c], coords, order=1, cval=0.0)
    del coords, u, v, x, y
    table_lin = optics.to_linear(_table(table, size, rng))
    blurred_mask = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(long_side / 120)), np.float32) / 255.0
    shadow_x = max(1, long_side // 200)
    shadow = np.roll(blurred_mask, (shadow_x, shadow_x), axis=(0, 1))
    table_lin *= (1 - 0.55 * shadow)[..., None]
    paper_lin = optics.to_linear(Image.fromarray(np.clip(warped, 0, 255).astype(np.uint8)))
    linear = paper_lin * mask[..., None] + table_lin * (1 - mask[..., None])
    linear *= _light(size, rng)[..., None]
    linear = optics.convolve(linear, optics.disk_psf(rng.uniform(1.0, 2.5) * long_side / 4000))
    linear = optics.sensor_noise(linear, nrng, rng.choice((1.0, 2.0, 4.0)))
    return optics.phone_sharpen(optics.to_srgb(linear), nrng)


def _table(table: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    scale = max(size[0] / table.width, size[1] / table.height) * rng.uniform(1.0, 1.3)
    big = table.resize((math.ceil(table.width * scale), math.ceil(table.height * scale)),
                       Image.Resampling.BICUBIC)
    left = rng.randrange(0, big.width - size[0] + 1)
    top = rng.randrange(0, big.height - size[1] + 1)
    return big.crop((left, top, left + size[0], top + size[1])).filter(
        ImageFilter.GaussianBlur(max(size) / 1600))


def _light(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Window light from one side, a vignette, and the soft shadow of the phone and hand."""
    w, h = size
    sw, sh = max(2, w // 16), max(2, h // 16)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xs, ys = xs / (sw - 1) - 0.5, ys / (sh - 1) - 0.5
    a = rng.uniform(0, 2 * math.pi)
    light = (1.0 + (xs * math.cos(a) + ys * math.sin(a)) * rng.uniform(0.4, 0.9)) * (
        1 - 0.6 * (xs**2 + ys**2))
    img = Image.fromarray(np.clip(light * 120, 0, 255).astype(np.uint8), "L")
    draw = ImageDraw.Draw(img)
    edge = rng.choice(("bottom", "right"))
    if edge == "bottom":
        x0 = rng.uniform(0.2, 0.6) * sw
        draw.ellipse((x0, sh * 0.78, x0 + sw * 0.45, sh * 1.3), fill=60)
    else:
        y0 = rng.uniform(0.2, 0.6) * sh
        draw.ellipse((sw * 0.8, y0, sw * 1.3, y0 + sh * 0.4), fill=60)
    img = img.filter(ImageFilter.GaussianBlur(2.5)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(img, np.float32) / 120.0


def scanned(doc: Image.Image, recipe: PaperRecipe) -> Image.Image:
    rng = random.Random(recipe.seed)
    page = Image.new("RGB", (1275, 1755), (247, 247, 245))  # A4 at 150 dpi
    scale = min(1.0, 1175 / doc.width, 1655 / doc.height)
    doc = doc.resize((round(doc.width * scale), round(doc.height * scale)),
                     Image.Resampling.LANCZOS)
    page.paste(doc, ((page.width - doc.width) // 2, 50))
    page = page.rotate(rng.uniform(-1.2, 1.2), Image.Resampling.BICUBIC,
                       fillcolor=(247, 247, 245))
    linear = optics.sensor_noise(optics.to_linear(page.filter(ImageFilter.GaussianBlur(0.5))),
                                 np.random.default_rng(recipe.seed), 0.5)
    return optics.to_srgb(linear)
