"""Holdout screenshots: real HTML documentation from Debian packages, and app screens that
show real holdout photos big (feeds, a marketplace, a photo viewer, an article, a chat),
rendered by headless Chromium at phone, tablet and desktop sizes (`samples.chromium`).

Screenshots are cached under `<holdout cache>/screens/<hash>.png`, the hash covering the
HTML, the viewport, the flags and the embedded photos."""

from __future__ import annotations

import hashlib
import random
import re
from html import escape
from pathlib import Path

from PIL import Image

from ..chromium import FLAGS, ScreenJob, _atomic_write, render_jobs
from .recipes import ScreenRecipe
from .sources import VIEWPORT_BY_NAME

_NAMES = ("Ilse", "Rafael", "Maren", "Tobias", "Sanne", "Joost", "Priya", "Kofi", "Annika",
          "Matteo", "Yara", "Lars", "Femke", "Dario", "Mirela", "Oskar")
_CAPTIONS = ("Golden hour never disappoints", "Weekend mood", "Found this spot by accident",
             "Can't believe this view", "Throwback to last summer", "Sunday walk",
             "New favourite place", "Look who came to visit", "Best day of the trip",
             "Worth the early alarm")
_ITEMS = (("Vintage bike, 28 inch", 140), ("Oak side table", 45), ("Camera lens 50 mm", 95),
          ("Kids' scooter", 20), ("Garden chairs (4)", 60), ("Record player", 75),
          ("Winter jacket, size M", 35), ("Desk lamp", 12), ("Plant pots, set", 8),
          ("Road atlas 2019", 3))
_HEADLINES = ("Rail line reopens after two-year restoration",
              "Local bakery wins national bread award",
              "Record number of visitors at the summer festival",
              "New cycle bridge connects the two old harbours",
              "Storm season: what the forecasters expect")


def page_html(recipe: ScreenRecipe, photo_url: dict[str, str]) -> str:
    rng = random.Random(recipe.seed)
    body = {"feed": _feed, "market": _market, "viewer": _viewer, "article": _article,
            "chat": _chat}[recipe.page](recipe, rng, photo_url)
    phone = VIEWPORT_BY_NAME[recipe.viewport].phone
    theme = "dark" if recipe.dark else "light"
    return ("<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><style>{_CSS}</style></head>"
            f"<body class='{theme} {'phone' if phone else 'wide'}'>{_top(rng, phone)}"
            f"<div class='page'>{body}</div></body></html>")


def _top(rng: random.Random, phone: bool) -> str:
    clock = f"{rng.randrange(7, 23)}:{rng.randrange(60):02d}"
    if phone:
        return (f"<div class='sb'><b>{clock}</b><span>\u25ae\u25ae\u25ae "
                f"{rng.randrange(15, 99)}%</span></div>")
    return f"<div class='tb'><span>\u25cf \u25cf \u25cf</span><span>{clock}</span></div>"


def _feed(r: ScreenRecipe, rng: random.Random, url: dict[str, str]) -> str:
    posts = "".join(
        f"<article><header><i class='av' style='background:hsl({rng.randrange(360)},55%,55%)'>"
        f"</i><b>{rng.choice(_NAMES).lower()}_{rng.randrange(10, 99)}</b><span>\u22ef</span>"
        f"</header><img class='big' src='{url[key]}'><div class='acts'>\u2661  \u25cb  "
        f"\u27a4<span>\u2691</span></div><p><b>{rng.randrange(20, 9000):,} likes</b></p>"
        f"<p>{escape(rng.choice(_CAPTIONS))}</p></article>" for key in r.photos)
    return (f"<nav class='app'><b class='brand'>Momento</b><span>\u2661  \u2709</span></nav>"
            f"{posts}<footer class='tabs'>\u2302 \u2315 \u229e \u25b7 \u263a</footer>")


def _market(r: ScreenRecipe, rng: random.Random, url: dict[str, str]) -> str:
    cards = "".join(
        f"<div class='card'><img src='{url[key]}'><b>\u20ac{price}</b><span>{escape(name)}"
        f"</span><small>{rng.randrange(1, 30)} km</small></div>"
        for key, (name, price) in zip(r.photos, rng.sample(_ITEMS, len(r.photos)), strict=True))
    return (f"<nav class='app'><b class='brand'>Swapshop</b><input value='Search nearby'>"
            f"</nav><div class='grid'>{cards}</div>")


def _viewer(r: ScreenRecipe, rng: random.Random, url: dict[str, str]) -> str:
    return (f"<div class='viewer'><div class='vt'>\u2039  <span>{rng.randrange(1, 28)} "
            f"March {rng.randrange(2019, 2025)}</span>  \u2606  \u22ef</div>"
            f"<img src='{url[r.photos[0]]}'><div class='vb'>\u21e7  \u2661  \u2699  \u232b"
            "</div></div>")


def _article(r: ScreenRecipe, rng: random.Random, url: dict[str, str]) -> str:
    text = " ".join(rng.sample(_CAPTIONS, 6)) + ". "
    return (f"<nav class='app news'><b class='brand'>The Daily Courier</b></nav>"
            f"<img class='hero' src='{url[r.photos[0]]}'><h1>{rng.choice(_HEADLINES)}</h1>"
            f"<p class='by'>By {rng.choice(_NAMES)} {rng.choice(_NAMES)}en</p>"
            f"<p>{escape(text * 3)}</p><img class='hero' src='{url[r.photos[1]]}'>"
            f"<p>{escape(text * 2)}</p>")


def _chat(r: ScreenRecipe, rng: random.Random, url: dict[str, str]) -> str:
    who = rng.choice(_NAMES)
    bubbles = [f"<div class='msg in'>{escape(rng.choice(_CAPTIONS))}!</div>"]
    for key in r.photos:
        side = rng.choice(("in", "out"))
        bubbles.append(f"<div class='msg {side} pic'><img src='{url[key]}'></div>")
    bubbles.append("<div class='msg out'>Wow, send me more of those</div>")
    return (f"<nav class='app'><b>\u2039 {who}</b><span>\u260e</span></nav>"
            f"<div class='chat'>{''.join(bubbles)}</div><footer class='composer'>Message</footer>")


_CSS = """
*{box-sizing:border-box;margin:0}body{font:15px/1.4 'DejaVu Sans',sans-serif;background:#fff;
color:#111}body.dark{background:#0e0f12;color:#eee}.sb,.tb{display:flex;justify-content:
space-between;padding:8px 18px;font-size:14px}.tb{background:#dde1e6;color:#333;font-size:12px}
body.dark .tb{background:#23262b;color:#bbb}.app{display:flex;justify-content:space-between;
align-items:center;padding:10px 14px;border-bottom:1px solid #8883}.brand{font:italic 700 22px
'DejaVu Serif',serif}.news .brand{font-style:normal;letter-spacing:1px}.app input{flex:1;
margin-left:12px;padding:6px 10px;border-radius:16px;border:1px solid #8885;background:#8881;
color:inherit}article header{display:flex;gap:8px;align-items:center;padding:8px 12px}
article header span{margin-left:auto}.av{width:32px;height:32px;border-radius:50%;
display:inline-block}img{display:block;width:100%;object-fit:cover}img.big{aspect-ratio:4/5}
.wide .page{max-width:620px;margin:0 auto}.wide .grid{grid-template-columns:repeat(3,1fr)}
.acts{padding:8px 12px;font-size:22px;display:flex;gap:14px}.acts span{margin-left:auto}
article p{padding:0 12px 4px}.tabs,.composer{position:fixed;bottom:0;left:0;right:0;
padding:12px 24px;font-size:22px;display:flex;justify-content:space-between;background:inherit;
border-top:1px solid #8883}body.dark .tabs,body.dark .composer{background:#0e0f12}
.composer{font-size:15px;color:#888}.grid{display:grid;grid-template-columns:1fr 1fr;gap:6px;
padding:6px}.card img{aspect-ratio:1;border-radius:8px}.card b{display:block;padding-top:4px}
.card span,.card small{display:block;font-size:13px;color:#777}.viewer{background:#000;
color:#fff;height:100vh;display:flex;flex-direction:column;justify-content:space-between}
.viewer img{width:100%;max-height:78vh;object-fit:contain}.vt,.vb{display:flex;
justify-content:space-between;padding:14px 18px;font-size:20px}.hero{aspect-ratio:16/10}
h1{font:700 24px/1.25 'DejaVu Serif',serif;padding:12px 14px 4px}.by{color:#888;padding:0 14px;
font-size:13px}article~p,.page>p{padding:8px 14px}.chat{padding:10px;display:flex;
flex-direction:column;gap:8px}.msg{max-width:78%;padding:8px 12px;border-radius:16px;
background:#e9e9eb}body.dark .msg{background:#26282c}.msg.out{align-self:flex-end;
background:#0a84ff;color:#fff}.msg.pic{padding:3px}.msg.pic img{border-radius:13px;
width:240px;max-width:100%;aspect-ratio:3/4}
"""


class HoldoutScreens:
    def __init__(self, root: Path, local: dict[str, Path]) -> None:
        self.root, self.local = root, local  # local: photo key / doc page -> readable file
        self.pages, self.assets, self.shots = root / "pages", root / "assets", root / "screens"
        for folder in (self.pages, self.assets, self.shots):
            folder.mkdir(parents=True, exist_ok=True)

    def job(self, recipe: ScreenRecipe) -> ScreenJob:
        viewport = VIEWPORT_BY_NAME[recipe.viewport]
        if recipe.page == "docs":
            assert recipe.doc_page is not None
            path = self.local[recipe.doc_page]
            content = path.read_bytes()
            ids = re.findall(rb'id="([A-Za-z0-9_.-]+)"', content)
            fragment = f"#{ids[recipe.anchor % len(ids)].decode()}" if ids else ""
            url = path.resolve().as_uri() + fragment
            identity = hashlib.sha256(content).hexdigest() + url
        else:
            urls = {key: self._asset(key) for key in recipe.photos}
            html = page_html(recipe, urls)
            digest = hashlib.sha256(html.encode()).hexdigest()[:20]
            page = self.pages / f"{recipe.page}-{digest}.html"
            if not page.exists():
                _atomic_write(page, html.encode())
            url = page.resolve().as_uri()
            identity = html + "".join(f"{k}:{(self.assets / f'{k}.jpg').stat().st_size}"
                                      for k in recipe.photos)
        key = hashlib.sha256("\n".join([identity, viewport.name, str(viewport.pixels),
                                        str(viewport.scale), " ".join(FLAGS)]).encode()
                             ).hexdigest()[:20]
        return ScreenJob(key, url, viewport, self.shots / f"{key}.png")

    def render(self, jobs: list[ScreenJob], workers: int = 2) -> int:
        return render_jobs(jobs, workers)

    def _asset(self, key: str) -> str:
        """A copy of a holdout photo no larger than an app would serve (1400 px)."""
        target = self.assets / f"{key}.jpg"
        if not target.exists():
            image = Image.open(self.local[key]).convert("RGB")
            image.thumbnail((1400, 1400), Image.Resampling.LANCZOS)
            tmp = target.with_suffix(".tmp")
            image.save(tmp, "JPEG", quality=88)
            tmp.replace(target)
        return target.resolve().as_uri()
