"""Receipts, invoices, letters and boarding passes drawn with Pillow, then scanned or
photographed on a table."""

from __future__ import annotations

import math
import random
import textwrap
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from . import texts
from .imaging import add_grain, gaussian_blur
from .plan import DocumentRecipe

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
A4 = (1240, 1754)  # 150 dpi
INK = (28, 28, 32)


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A DejaVu face (Debian fonts-dejavu-core); Pillow's own font where it is missing."""
    path = FONT_DIR / f"DejaVu{name}.ttf"
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def render_document(kind: str, seed: int, when: datetime, event: str) -> Image.Image:
    rng = random.Random(seed)
    if kind == "receipt":
        return _receipt(rng, when, event)
    if kind == "invoice":
        return _invoice(rng, when)
    if kind == "letter":
        return _letter(rng, when)
    if kind == "boarding_pass":
        return _boarding_pass(rng, when)
    raise ValueError(f"unknown document kind {kind!r}")


_EVENT_CITY = {"lisbon": 0, "birthday": 2, "florida": 3, "hike": 4}


def _money(value: float, currency: str) -> str:
    return f"${value:,.2f}" if currency == "USD" else f"{value:,.2f} €".replace(",", " ")


def _receipt(rng: random.Random, when: datetime, event: str) -> Image.Image:
    currency = "USD" if event == "florida" else "EUR"
    shop = rng.choice(texts.SHOPS)
    street = rng.choice(texts.STREETS)
    city, postcode, _ = texts.CITIES[_EVENT_CITY.get(event, 1)]
    items = rng.sample(texts.RECEIPT_ITEMS, rng.randint(3, 8))
    width, margin, line = 640, 34, 30
    mono, bold = font("SansMono", 22), font("SansMono-Bold", 22)
    rows: list[tuple[str, str, ImageFont.ImageFont]] = [
        ("center", shop.upper(), font("SansMono-Bold", 30)),
        ("center", f"{street} {rng.randint(1, 180)}", mono),
        ("center", f"{postcode} {city}", mono),
        ("center", f"VAT {rng.randint(100000000, 999999999)}", mono),
        ("left", "", mono),
        ("left", f"{when:%d.%m.%Y}   {when:%H:%M}   Table {rng.randint(1, 30)}", mono),
        ("left", f"Receipt #{rng.randint(1000, 99999)}", mono),
        ("left", "-" * 40, mono),
    ]
    total = 0.0
    for name, price in items:
        qty = rng.choice((1, 1, 1, 2, 3))
        total += qty * price
        rows.append(("pair", f"{qty} x {name}|{_money(qty * price, currency)}", mono))
    rate = 0.23 if event == "lisbon" else 0.19 if currency == "EUR" else 0.07
    rows += [
        ("left", "-" * 40, mono),
        ("pair", f"Subtotal|{_money(total / (1 + rate), currency)}", mono),
        ("pair", f"Tax {rate:.0%}|{_money(total - total / (1 + rate), currency)}", mono),
        ("pair", f"TOTAL|{_money(total, currency)}", font("SansMono-Bold", 30)),
        ("left", "", mono),
        ("pair", f"VISA **** {rng.randint(1000, 9999)}|{_money(total, currency)}", mono),
        ("left", f"Auth {rng.randint(100000, 999999)}  Terminal {rng.randint(10, 99)}", mono),
        ("left", "", mono),
        ("center", "Thank you, come again!", bold),
    ]
    height = margin * 2 + len(rows) * line + 130
    image = Image.new("RGB", (width, height), (252, 252, 250))
    draw = ImageDraw.Draw(image)
    y = margin
    for align, text, face in rows:
        if align == "center":
            draw.text((width / 2, y), text, font=face, fill=INK, anchor="mt")
        elif align == "pair":
            left, right = text.split("|")
            draw.text((margin, y), left, font=face, fill=INK)
            draw.text((width - margin, y), right, font=face, fill=INK, anchor="rt")
        else:
            draw.text((margin, y), text, font=face, fill=INK)
        y += line + (8 if face is not mono else 0)
    x = margin + 40
    while x < width - margin - 40:  # barcode
        bar = rng.choice((2, 2, 3, 5))
        draw.rectangle((x, y + 20, x + bar - 1, y + 100), fill=INK)
        x += bar + rng.choice((2, 3, 4))
    return image


def _invoice(rng: random.Random, when: datetime) -> Image.Image:
    image = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(image)
    sans, bold = font("Sans", 22), font("Sans-Bold", 22)
    company = rng.choice(texts.COMPANIES)
    accent = rng.choice(((22, 94, 160), (180, 60, 40), (30, 120, 80), (90, 60, 140)))
    m = 100
    draw.rectangle((m, m, m + 70, m + 70), fill=accent)
    draw.text((m + 35, m + 35), company[0], font=font("Sans-Bold", 44), fill="white",
              anchor="mm")
    draw.text((m + 90, m + 4), company, font=font("Sans-Bold", 30), fill=INK)
    street, (city, postcode, country) = rng.choice(texts.STREETS), rng.choice(texts.CITIES)
    draw.text((m + 90, m + 44), f"{street} {rng.randint(1, 99)}, {postcode} {city}",
              font=sans, fill=(90, 90, 90))
    draw.text((A4[0] - m, m), "INVOICE", font=font("Sans-Bold", 48), fill=accent, anchor="ra")
    number = f"INV-{when:%Y}-{rng.randint(1000, 9999)}"
    meta = (("Invoice no.", number), ("Date", f"{when:%d %B %Y}"),
            ("Due", f"{rng.randint(1, 28):02d} {when:%B %Y}"),
            ("Customer no.", str(rng.randint(100000, 999999))))
    y = m + 80
    for label, value in meta:
        draw.text((A4[0] - m - 400, y), label, font=sans, fill=(100, 100, 100))
        draw.text((A4[0] - m, y), value, font=bold, fill=INK, anchor="ra")
        y += 34
    draw.text((m, 330), "Bill to", font=bold, fill=accent)
    customer = texts.person(rng)
    for i, text in enumerate((customer, f"{rng.choice(texts.STREETS)} {rng.randint(1, 90)}",
                              f"{postcode} {city}", country)):
        draw.text((m, 366 + i * 32), text, font=sans, fill=INK)
    top = 560
    draw.rectangle((m, top, A4[0] - m, top + 48), fill=(236, 238, 242))
    columns = ((m + 16, "Description", "la"), (A4[0] - m - 420, "Qty", "ra"),
               (A4[0] - m - 200, "Unit price", "ra"), (A4[0] - m - 16, "Amount", "ra"))
    for x, title, anchor in columns:
        draw.text((x, top + 12), title, font=bold, fill=INK, anchor=anchor)
    y, subtotal = top + 70, 0.0
    for name, price in rng.sample(texts.INVOICE_LINES, rng.randint(3, 8)):
        qty = rng.choice((1, 1, 2, 3))
        subtotal += qty * price
        cells = (name, str(qty), _money(price, "EUR"), _money(qty * price, "EUR"))
        for (x, _, anchor), cell in zip(columns, cells, strict=True):
            draw.text((x, y), cell, font=sans, fill=INK, anchor=anchor)
        y += 44
        draw.line((m, y - 10, A4[0] - m, y - 10), fill=(220, 220, 225), width=1)
    vat = subtotal * 0.19
    for label, value, face in (("Subtotal", subtotal, sans), ("VAT 19%", vat, sans),
                               ("Total due", subtotal + vat, font("Sans-Bold", 28))):
        y += 10
        draw.text((A4[0] - m - 420, y), label, font=face, fill=INK)
        draw.text((A4[0] - m - 16, y), _money(value, "EUR"), font=face, fill=INK, anchor="ra")
        y += 36
    foot = A4[1] - 230
    draw.line((m, foot, A4[0] - m, foot), fill=accent, width=3)
    iban = "DE" + "".join(str(rng.randint(0, 9)) for _ in range(20))
    lines = (f"Please transfer the total within 14 days quoting {number}.",
             f"IBAN {iban[:4]} {iban[4:8]} {iban[8:12]} {iban[12:16]} {iban[16:20]} {iban[20:]}",
             f"{company} · Registered in {city} · info@{company.split()[0].lower()}.example")
    for i, text in enumerate(lines):
        draw.text((m, foot + 24 + i * 34), text, font=font("Sans", 20), fill=(80, 80, 80))
    return image


def _letter(rng: random.Random, when: datetime) -> Image.Image:
    image = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(image)
    serif, bold = font("Serif", 25), font("Serif-Bold", 25)
    m, right = 130, A4[0] - 130
    company = rng.choice(texts.COMPANIES)
    draw.text((right, 110), company, font=font("Serif-Bold", 30), fill=INK, anchor="ra")
    street, (city, postcode, _) = rng.choice(texts.STREETS), rng.choice(texts.CITIES)
    draw.text((right, 154), f"{street} {rng.randint(1, 99)}", font=serif, fill=(70, 70, 70),
              anchor="ra")
    draw.text((right, 188), f"{postcode} {city}", font=serif, fill=(70, 70, 70), anchor="ra")
    recipient = texts.person(rng)
    for i, text in enumerate((recipient, f"{rng.choice(texts.STREETS)} {rng.randint(1, 90)}",
                              f"{postcode} {city}")):
        draw.text((m, 330 + i * 36), text, font=serif, fill=INK)
    draw.text((right, 500), f"{city}, {when:%d %B %Y}", font=serif, fill=INK, anchor="ra")
    subject = rng.choice(("Your contract", "Confirmation of your request", "Annual statement",
                          "Change of terms", "Your appointment"))
    draw.text((m, 580), f"Re: {subject}, ref. {rng.randint(10000, 99999)}", font=bold, fill=INK)
    y = 660
    draw.text((m, y), f"Dear {recipient.split()[0]} {recipient.split()[1]},", font=serif,
              fill=INK)
    y += 60
    for _ in range(rng.randint(3, 4)):
        paragraph = texts.sentences(rng, texts.LETTER_SENTENCES, rng.randint(2, 4))
        for row in textwrap.wrap(paragraph, 68):
            draw.text((m, y), row, font=serif, fill=INK)
            y += 38
        y += 26
    draw.text((m, y + 10), "Kind regards,", font=serif, fill=INK)
    _signature(draw, rng, (m, y + 60))
    draw.text((m, y + 170), texts.person(rng), font=serif, fill=INK)
    draw.text((m, y + 206), company, font=serif, fill=(90, 90, 90))
    return image


def _boarding_pass(rng: random.Random, when: datetime) -> Image.Image:
    """A printed boarding card: the airline's band, the route in large letters, the flight's
    fields in small capitals, a perforated stub and a two-dimensional code."""
    width, height, stub = 1280, 520, 900
    image = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(image)
    accent = rng.choice(((12, 60, 120), (150, 20, 40), (0, 110, 100), (60, 40, 110)))
    airline = rng.choice(texts.AIRLINES)
    draw.rectangle((0, 0, width, 84), fill=accent)
    draw.text((36, 42), airline.upper(), font=font("Sans-Bold", 36), fill="white", anchor="lm")
    draw.text((stub - 30, 42), "BOARDING PASS", font=font("Sans-Bold", 26), fill="white",
              anchor="rm")
    (origin, _, _), (destination, _, _) = rng.sample(texts.CITIES, 2)
    for x, city in ((36, origin), (470, destination)):
        draw.text((x, 110), city[:3].upper(), font=font("Sans-Bold", 92), fill=INK)
        draw.text((x + 4, 214), city, font=font("Sans", 24), fill=(90, 90, 90))
    draw.line((300, 165, 430, 165), fill=accent, width=4)
    draw.polygon(((430, 153), (452, 165), (430, 177)), fill=accent)
    flight = f"{airline[:2].upper()} {rng.randint(100, 9899)}"
    boarding = when.replace(hour=rng.randint(5, 21), minute=rng.choice((0, 15, 30, 45)))
    seat = f"{rng.randint(1, 38)}{rng.choice('ABCDEF')}"
    fields = (("PASSENGER", texts.person(rng).upper()), ("FLIGHT", flight),
              ("DATE", f"{when:%d %b %Y}".upper()), ("BOARDING", f"{boarding:%H:%M}"),
              ("GATE", f"{rng.choice('ABCDE')}{rng.randint(1, 60)}"), ("SEAT", seat),
              ("GROUP", str(rng.randint(1, 5))))
    places = ((36, 290), (370, 290), (540, 290), (770, 290), (36, 390), (246, 390), (456, 390))
    for (x, y), (label, text) in zip(places, fields, strict=True):
        draw.text((x, y), label, font=font("Sans", 18), fill=(110, 110, 110))
        draw.text((x, y + 26), text, font=font("Sans-Bold", 28), fill=INK)
    for y in range(100, height - 10, 18):  # the perforation
        draw.ellipse((stub - 3, y, stub + 3, y + 6), fill=(200, 198, 192))
    draw.text((stub + 30, 110), f"{origin[:3].upper()} > {destination[:3].upper()}",
              font=font("Sans-Bold", 34), fill=INK)
    draw.text((stub + 30, 160), f"{flight}   SEAT {seat}", font=font("Sans", 18), fill=INK)
    _matrix_code(draw, rng, (stub + 60, 210), cells=29, cell=7)
    return image


def _matrix_code(draw: ImageDraw.ImageDraw, rng: random.Random, at: tuple[int, int], *,
                 cells: int, cell: int) -> None:
    """A square two-dimensional code: three finder squares, random modules elsewhere."""
    left, top = at
    far = cells - 7

    def finder(r: int, c: int) -> bool | None:  # None: outside the three finder squares
        if not ((r < 7 or r >= far) and c < 7 or r < 7 and c >= far):
            return None
        r, c = r % far, c % far  # the square's own row and column
        return r in (0, 6) or c in (0, 6) or (2 <= r <= 4 and 2 <= c <= 4)

    for r in range(cells):
        for c in range(cells):
            mark = finder(r, c)
            if mark is None:  # a data module
                mark = rng.random() < 0.5
            if mark:
                x, y = left + c * cell, top + r * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=INK)


def _signature(draw: ImageDraw.ImageDraw, rng: random.Random, at: tuple[int, int]) -> None:
    x, y = at
    points = []
    for i in range(60):
        t = i / 59
        points.append((x + t * 260 + 18 * math.sin(t * 17 + rng.random()),
                       y + 40 + 28 * math.sin(t * 9 + rng.random() * 2) * (1 - t / 2)))
    draw.line(points, fill=(20, 40, 120), width=3, joint="curve")


# --- presentation -----------------------------------------------------------------------------
def flat_scan(doc: Image.Image, recipe: DocumentRecipe) -> Image.Image:
    """A flatbed scan: the page on white A4, a hair crooked, scanner noise."""
    rng = np.random.default_rng(recipe.seed)
    page = Image.new("RGB", A4, (250, 250, 248))
    scale = min(1.0, (A4[0] - 80) / doc.width, (A4[1] - 80) / doc.height)
    doc = doc.resize((round(doc.width * scale), round(doc.height * scale)),
                     Image.Resampling.LANCZOS)
    page.paste(doc, ((A4[0] - doc.width) // 2, 40 if doc.height < A4[1] - 80 else
                     (A4[1] - doc.height) // 2))
    page = page.rotate(recipe.tilt, Image.Resampling.BICUBIC, fillcolor=(250, 250, 248))
    page = gaussian_blur(page, 0.4)
    return add_grain(page, 1.5, rng)


def photograph(doc: Image.Image, table: Image.Image, recipe: DocumentRecipe) -> Image.Image:
    """A phone photo of the paper lying on a real table: perspective, tint, shade, blur."""
    rng = random.Random(recipe.seed)
    portrait = doc.height >= doc.width
    long_side = recipe.long_side
    size = (long_side * 3 // 4, long_side) if portrait else (long_side, long_side * 3 // 4)
    small = (max(1, size[0] // 2), max(1, size[1] // 2))  # the table is out of focus
    canvas = _cover(table, small).filter(ImageFilter.GaussianBlur(1.0)).resize(
        size, Image.Resampling.BILINEAR)
    paper = _tint(doc, rng)
    scale = recipe.fill * min(size[0] / doc.width, size[1] / doc.height)
    w, h = doc.width * scale, doc.height * scale
    cx = size[0] / 2 + rng.uniform(-0.06, 0.06) * size[0]
    cy = size[1] / 2 + rng.uniform(-0.05, 0.05) * size[1]
    angle = math.radians(recipe.tilt)
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px, py = sx * w / 2, sy * h / 2
        if sy < 0:  # keystone: the far edge looks narrower
            px *= 1 - recipe.warp
        px += rng.uniform(-1, 1) * recipe.warp * w * 0.15
        py += rng.uniform(-1, 1) * recipe.warp * h * 0.15
        corners.append((cx + px * math.cos(angle) - py * math.sin(angle),
                        cy + px * math.sin(angle) + py * math.cos(angle)))
    coeffs = perspective_coefficients(corners, doc.size)
    warped = paper.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", doc.size, 255).transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                                    Image.Resampling.BILINEAR)
    shadow = mask.resize(small, Image.Resampling.BOX).filter(
        ImageFilter.GaussianBlur(long_side / 180)).resize(size, Image.Resampling.BILINEAR)
    canvas = Image.composite(Image.new("RGB", size, (20, 18, 16)), canvas,
                             shadow.point(lambda v: v * 0.45))
    canvas.paste(warped, (0, 0), mask)
    canvas = _shade(canvas, rng)
    canvas = gaussian_blur(canvas, rng.uniform(0.6, 1.1))
    return add_grain(canvas, rng.uniform(1.8, 3.0), np.random.default_rng(recipe.seed))


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = max(size[0] / image.width, size[1] / image.height)
    resized = image.resize((math.ceil(image.width * scale), math.ceil(image.height * scale)),
                           Image.Resampling.LANCZOS)
    left, top = (resized.width - size[0]) // 2, (resized.height - size[1]) // 2
    return resized.crop((left, top, left + size[0], top + size[1]))


def _tint(doc: Image.Image, rng: random.Random) -> Image.Image:
    warm = np.array([1.0, rng.uniform(0.97, 0.99), rng.uniform(0.9, 0.95)], dtype=np.float32)
    arr = np.asarray(doc, dtype=np.float32) * warm * rng.uniform(0.9, 0.97)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _shade(image: Image.Image, rng: random.Random) -> Image.Image:
    """Uneven light: a gradient across the frame and a vignette."""
    w, h = image.size
    sw, sh = max(2, w // 16), max(2, h // 16)  # light varies slowly: compute it small
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xs, ys = xs / (sw - 1) - 0.5, ys / (sh - 1) - 0.5
    angle = rng.uniform(0, 2 * math.pi)
    ramp = xs * math.cos(angle) + ys * math.sin(angle)
    light = (0.9 + ramp * rng.uniform(0.25, 0.45)) * (1 - 0.5 * (xs**2 + ys**2))
    light_map = Image.fromarray(np.clip(light * 200, 0, 255).astype(np.uint8), "L").resize(
        (w, h), Image.Resampling.BILINEAR)
    arr = np.asarray(image, dtype=np.uint16) * np.asarray(light_map, dtype=np.uint16)[..., None]
    return Image.fromarray(np.clip(arr // 200, 0, 255).astype(np.uint8), "RGB")


def perspective_coefficients(corners: list[tuple[float, float]], size: tuple[int, int]
                             ) -> list[float]:
    """PIL `Image.transform(PERSPECTIVE)` coefficients mapping output points on `corners`
    (top left, top right, bottom right, bottom left) back to the source rectangle."""
    w, h = size
    source = ((0, 0), (w, 0), (w, h), (0, h))
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs))]
