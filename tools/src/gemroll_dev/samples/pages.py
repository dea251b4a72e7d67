"""HTML of the app screens that headless Chromium photographs as screenshots. Pure: no I/O.

Each page is a small, plausible app screen (chat, settings, news, ...) filled from word banks
with a seeded random generator; real photos appear where apps show them (chat, feed, news),
and fill most of the screen in the photo viewer (`PHOTO_PAGE_KINDS`: screenshots that are
mostly photos).
"""

from __future__ import annotations

import colorsys
import io
import keyword
import random
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from . import texts
from .catalog import PHOTOS, Viewport

CHECK = "\u2713"


@dataclass(frozen=True)
class PageContext:
    kind: str
    seed: int
    viewport: Viewport
    dark: bool
    when: datetime  # local time shown in the status bar
    photo_url: Callable[[str], str]  # catalog key -> URL of a downsized copy
    code_text: str = ""  # real source code for the editor page
    doc_url: str = ""  # real HTML page for the browser page


def render_page(ctx: PageContext) -> str:
    rng = random.Random(ctx.seed)
    body = _KINDS[ctx.kind](ctx, rng)
    classes = " ".join(c for c in ("dark" if ctx.dark else "",
                                   "phone" if ctx.viewport.phone else "wide") if c)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{_CSS}</style></head><body class='{classes}'>"
        f"{_status_bar(ctx)}<main>{body}</main>{_home_indicator(ctx)}</body></html>"
    )


# --- chrome around every page -------------------------------------------------------------------
def _status_bar(ctx: PageContext) -> str:
    if not ctx.viewport.phone:
        if ctx.viewport.name in ("macbook", "desktop"):
            return (f"<div class='menubar'><b>\u2318</b><b>Browser</b><span>File</span>"
                    f"<span>Edit</span><span>View</span><span>History</span>"
                    f"<span class='right'>{ctx.when:%a %d %b  %H:%M}</span></div>")
        return f"<div class='status tablet'><span>{ctx.when:%H:%M}  {ctx.when:%a %d %b}</span>" \
               "<span class='icons'>\u25b2 100% <i class='battery'><i></i></i></span></div>"
    battery = 20 + ctx.seed % 80
    android = ctx.viewport.name.startswith("pixel")
    clock = f"{ctx.when:%H:%M}" if android else f"{ctx.when.hour % 12 or 12}:{ctx.when:%M}"
    bars = "".join(f"<i style='height:{4 + 3 * n}px'></i>" for n in range(4))
    return (f"<div class='status{' android' if android else ''}'><span>{clock}</span>"
            f"<span class='icons'><span class='bars'>{bars}</span> 5G "
            f"<i class='battery'><i style='width:{battery}%'></i></i></span></div>")


def _home_indicator(ctx: PageContext) -> str:
    if ctx.viewport.phone and not ctx.viewport.name.startswith("pixel"):
        return "<div class='home-indicator'></div>"
    return ""


def _avatar(name: str, size: int = 40) -> str:
    hue = (sum(map(ord, name)) * 37 % 360) / 360
    r, g, b = (round(c * 255) for c in colorsys.hls_to_rgb(hue, 0.55, 0.55))
    initials = "".join(part[0] for part in name.split()[:2])
    return (f"<span class='avatar' style='width:{size}px;height:{size}px;"
            f"line-height:{size}px;background:rgb({r},{g},{b})'>{escape(initials)}</span>")


def _photo(ctx: PageContext, rng: random.Random) -> str:
    return ctx.photo_url(rng.choice(PHOTOS).key)


# --- the kinds of pages -------------------------------------------------------------------------
def _chat(ctx: PageContext, rng: random.Random) -> str:
    contact = texts.person(rng)
    start = ctx.when - timedelta(minutes=rng.randint(20, 300))
    rows = [f"<div class='day'>Today {start:%H:%M}</div>"]
    lines = rng.sample(texts.CHAT_LINES, 16)
    for n in range(rng.randint(10, 16)):
        side = "out" if rng.random() < 0.45 else "in"
        if n in (3, 9) and rng.random() < 0.7:
            rows.append(f"<div class='msg {side} pic'><img src='{_photo(ctx, rng)}'></div>")
            continue
        rows.append(f"<div class='msg {side}'>{escape(lines[n])}</div>")
    return (f"<div class='bar chat-head'><span class='back'>\u2039</span>{_avatar(contact, 36)}"
            f"<div><div class='name'>{escape(contact)}</div><div class='sub'>online</div></div>"
            f"</div><div class='msgs'>{''.join(rows)}</div>"
            "<div class='composer'><span class='plus'>+</span><div class='field'>Message</div>"
            "<span class='plus'>\u25cf</span></div>")


def _settings(ctx: PageContext, rng: random.Random) -> str:
    name = texts.person(rng)
    wifi = rng.choice(("HomeNet-5G", "Cafe Aurora Guest", "FRITZ!Box 7590", "Vodafone-2F4C"))
    groups = [f"<div class='group'><div class='row profile'>{_avatar(name, 60)}<div><b>"
              f"{escape(name)}</b><div class='sub'>Account, Cloud, Media &amp; Purchases</div>"
              "</div><span class='chev'>\u203a</span></div></div>"]
    for group in texts.SETTINGS_GROUPS:
        rows = []
        for label, value in group:
            hue = sum(map(ord, label)) * 53 % 360
            icon = f"<span class='icon' style='background:hsl({hue},70%,50%)'>{label[0]}</span>"
            if value == "toggle":
                on = rng.random() < 0.3
                right = f"<span class='toggle{' on' if on else ''}'><i></i></span>"
            else:
                shown = wifi if value == "value" else value
                right = f"<span class='sub'>{escape(shown)}</span><span class='chev'>\u203a</span>"
            rows.append(f"<div class='row'>{icon}<span class='label'>{escape(label)}</span>"
                        f"{right}</div>")
        groups.append(f"<div class='group'>{''.join(rows)}</div>")
    return (f"<h1 class='title'>Settings</h1><div class='search'>\u2315 Search</div>"
            f"{''.join(groups)}")


def _news(ctx: PageContext, rng: random.Random) -> str:
    site = rng.choice(("The Harbour Times", "Daily Ledger", "Morning Post", "City Courier"))
    headline = rng.choice(texts.HEADLINES)
    paragraphs = "".join(f"<p>{escape(texts.sentences(rng, texts.NEWS_SENTENCES, 3))}</p>"
                         for _ in range(rng.randint(5, 8)))
    author = texts.person(rng)
    related = "".join(f"<li>{escape(h)}</li>" for h in rng.sample(texts.HEADLINES, 3))
    return (f"<div class='bar site'><span>\u2630</span><b>{escape(site)}</b><span>\u2315</span>"
            f"</div><article><div class='kicker'>{rng.choice(('Local', 'Travel', 'Culture'))}"
            f"</div><h1>{escape(headline)}</h1><p class='standfirst'>"
            f"{escape(rng.choice(texts.NEWS_SENTENCES))}</p><div class='byline'>By "
            f"{escape(author)} \u00b7 {ctx.when:%d %B %Y}</div>"
            f"<figure><img src='{_photo(ctx, rng)}'><figcaption>Photo: {escape(author)}"
            f"</figcaption></figure>{paragraphs}<h3>Related</h3><ul>{related}</ul></article>")


def _shopping(ctx: PageContext, rng: random.Random) -> str:
    sections = []
    for section, items in texts.GROCERIES.items():
        if rng.random() < 0.25:
            continue
        rows = []
        for item in rng.sample(items, rng.randint(2, min(5, len(items)))):
            done = rng.random() < 0.35
            qty = rng.choice(("", "", "2", "500 g", "1 kg", "x3"))
            rows.append(f"<div class='row{' done' if done else ''}'><span class='check'>"
                        f"{CHECK if done else ''}</span><span class='label'>{escape(item)}"
                        f"</span><span class='sub'>{qty}</span></div>")
        sections.append(f"<h3 class='section'>{section}</h3><div class='group'>{''.join(rows)}"
                        "</div>")
    return (f"<div class='bar'><span class='back'>\u2039 Lists</span><span class='accent'>"
            f"Share</span></div><h1 class='title'>Groceries</h1>{''.join(sections)}"
            "<div class='fab'>+ Add item</div>")


def _map(ctx: PageContext, rng: random.Random) -> str:
    w, h = ctx.viewport.css_width, ctx.viewport.css_height
    land, park, water, road = (("#242629", "#23382a", "#1b2b3d", "#3a3d42") if ctx.dark else
                               ("#f1efe9", "#cfe8c3", "#a9d3f0", "#ffffff"))
    shapes = [f"<rect width='{w}' height='{h}' fill='{land}'/>"]
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        shapes.append(f"<rect x='{x:.0f}' y='{y:.0f}' width='{rng.uniform(60, 200):.0f}' "
                      f"height='{rng.uniform(50, 160):.0f}' rx='12' fill='{park}'/>")
    river = " ".join(f"{x:.0f},{h * 0.6 + 80 * (rng.random() - 0.5) + x * 0.2:.0f}"
                     for x in range(-20, w + 40, 60))
    shapes.append(f"<polyline points='{river}' fill='none' stroke='{water}' stroke-width='46'/>")
    streets = []
    for i in range(rng.randint(6, 10)):
        vertical = i % 2 == 0
        pos = rng.uniform(0.05, 0.95)
        skew = rng.uniform(-0.15, 0.15)
        if vertical:
            pts = ((pos * w, 0), (pos * w + skew * h, h))
        else:
            pts = ((0, pos * h), (w, pos * h + skew * w))
        width = rng.choice((6, 8, 12))
        line = f"x1='{pts[0][0]:.0f}' y1='{pts[0][1]:.0f}' x2='{pts[1][0]:.0f}' " \
               f"y2='{pts[1][1]:.0f}'"
        shapes.append(f"<line {line} stroke='#c9c6bd' stroke-width='{width + 2}'/>"
                      f"<line {line} stroke='{road}' stroke-width='{width}'/>")
        streets.append(((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2))
    for (x, y), name in zip(streets, rng.sample(texts.STREETS, len(streets)), strict=False):
        shapes.append(f"<text x='{x:.0f}' y='{y:.0f}' font-size='11' fill='#8a8a8a'>"
                      f"{escape(name)}</text>")
    route = " ".join(f"{rng.uniform(0.2, 0.8) * w:.0f},{(0.2 + 0.12 * i) * h:.0f}"
                     for i in range(6))
    shapes.append(f"<polyline points='{route}' fill='none' stroke='#1a73e8' stroke-width='7' "
                  "stroke-linejoin='round'/>")
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.15, 0.7) * h
        shapes.append(f"<circle cx='{x:.0f}' cy='{y:.0f}' r='9' fill='#ea4335' stroke='white' "
                      "stroke-width='3'/>")
    place = rng.choice(texts.PLACES)
    minutes = rng.randint(4, 38)
    stars = "\u2605" * 4 + "\u2606"
    return (f"<svg class='map' width='{w}' height='{h}'>{''.join(shapes)}</svg>"
            f"<div class='search floating'>\u2315 Search here</div>"
            f"<div class='sheet'><div class='grip'></div><h2>{escape(place)}</h2>"
            f"<div class='sub'>{rng.uniform(3.9, 4.9):.1f} <span class='stars'>{stars}</span> "
            f"({rng.randint(80, 9000)}) \u00b7 {minutes} min walk</div><div class='buttons'>"
            "<span class='primary'>Directions</span><span>Start</span><span>Save</span>"
            "</div></div>")


def _code(ctx: PageContext, rng: random.Random) -> str:
    lines = ctx.code_text.splitlines() or ["# (no source available)"]
    first = rng.randrange(max(1, len(lines) - 60))
    chunk = "\n".join(lines[first: first + 70])
    files = ("decoder.py", "scanner.py", "__init__.py", "tests.py")
    tabs = "".join(f"<span class='tab{' active' if i == 0 else ''}'>{f}</span>"
                   for i, f in enumerate(files))
    numbered = "".join(f"<div><span class='ln'>{first + i + 1}</span>{row or ' '}</div>"
                       for i, row in enumerate(_highlight(chunk).split("\n")))
    return (f"<div class='editor'><div class='tabs'>{tabs}</div><pre class='code'>{numbered}"
            "</pre><div class='statusline'>main \u2022 Python 3.11 \u2022 UTF-8 \u2022 "
            f"Ln {first + 12}, Col {rng.randint(1, 40)}</div></div>")


def _highlight(source: str) -> str:
    """Python source as HTML spans (keywords, strings, comments, numbers)."""
    out, last_row, last_col = [], 1, 0
    lines = source.split("\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return escape(source)
    for tok in tokens:
        (srow, scol), (erow, ecol) = tok.start, tok.end
        if srow > len(lines):
            break
        if srow > last_row:
            out.append(escape(lines[last_row - 1][last_col:]) + "\n")
            out.extend(escape(line) + "\n" for line in lines[last_row: srow - 1])
            last_col = 0
        out.append(escape(lines[srow - 1][last_col:scol]))
        text = escape(tok.string)
        css = ("kw" if tok.type == tokenize.NAME and keyword.iskeyword(tok.string) else
               "str" if tok.type == tokenize.STRING else
               "com" if tok.type == tokenize.COMMENT else
               "num" if tok.type == tokenize.NUMBER else "")
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        out.append(f"<span class='{css}'>{text}</span>" if css else text)
        last_row, last_col = erow, ecol
    return "".join(out)


def _feed(ctx: PageContext, rng: random.Random) -> str:
    stories = "".join(f"<div class='story'>{_avatar(texts.person(rng), 58)}</div>"
                      for _ in range(6))
    posts = []
    for _ in range(3):
        user = texts.person(rng)
        handle = user.lower().replace(" ", "_")
        posts.append(
            f"<div class='post'><div class='post-head'>{_avatar(user, 34)}<div><b>{handle}</b>"
            f"<div class='sub'>{escape(rng.choice(texts.PLACES))}</div></div></div>"
            f"<img src='{_photo(ctx, rng)}'><div class='actions'>\u2665 \u2709 \u27a4</div>"
            f"<div class='likes'>{rng.randint(12, 4800):,} likes</div><div><b>{handle}</b> "
            f"{escape(rng.choice(texts.CHAT_LINES))}</div><div class='sub'>"
            f"{rng.randint(1, 23)} hours ago</div></div>")
    return (f"<div class='bar site'><b class='logo'>Pixelgram</b><span>\u2661 \u2709</span></div>"
            f"<div class='stories'>{stories}</div>{''.join(posts)}"
            "<div class='tabbar'>\u2302 \u2315 \u2295 \u25b6 \u25cf</div>")


def _viewer(ctx: PageContext, rng: random.Random) -> str:
    """A gallery app showing one photo full width on black, with its bars."""
    when = ctx.when - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1400))
    thumbs = "".join(f"<img src='{_photo(ctx, rng)}'>" for _ in range(7))
    return (f"<div class='viewer'><div class='vbar'><span>\u2039 Photos</span><span><b>"
            f"{when:%d %B %Y}</b><small>{when:%H:%M}</small></span><span>Edit</span></div>"
            f"<img class='shown' src='{_photo(ctx, rng)}'><div class='strip'>{thumbs}</div>"
            "<div class='vtools'>\u21ea \u2661 \u24d8 \u2421</div></div>")


def _calendar(ctx: PageContext, rng: random.Random) -> str:
    first = ctx.when.replace(day=1)
    lead = first.weekday()
    days_in_month = ((first + timedelta(days=32)).replace(day=1) - first).days
    cells = ["<span class='dow'>" + d + "</span>" for d in "MTWTFSS"]
    cells += ["<span></span>"] * lead
    for day in range(1, days_in_month + 1):
        today = " today" if day == ctx.when.day else ""
        dot = "<i></i>" if rng.random() < 0.35 else ""
        cells.append(f"<span class='d{today}'>{day}{dot}</span>")
    events = []
    hour = 8
    for title in rng.sample(texts.CALENDAR_EVENTS, rng.randint(3, 6)):
        hour += rng.randint(1, 3)
        if hour > 21:
            break
        hue = rng.randrange(360)
        events.append(f"<div class='event' style='border-color:hsl({hue},70%,50%)'><b>"
                      f"{escape(title)}</b><div class='sub'>{hour:02d}:00 \u2013 {hour + 1:02d}:"
                      f"{rng.choice(('00', '30'))}</div></div>")
    return (f"<div class='bar'><span class='accent'>\u2039 {ctx.when:%Y}</span><span>\u2315 +"
            f"</span></div><h1 class='title'>{ctx.when:%B}</h1><div class='month'>"
            f"{''.join(cells)}</div><h3 class='section'>{ctx.when:%A, %d %B}</h3>"
            f"{''.join(events)}")


def _email(ctx: PageContext, rng: random.Random) -> str:
    rows = []
    when = ctx.when
    for sender, subject, snippet in rng.sample(texts.EMAILS, min(9, len(texts.EMAILS))):
        unread = rng.random() < 0.4
        when -= timedelta(minutes=rng.randint(10, 600))
        stamp = f"{when:%H:%M}" if when.date() == ctx.when.date() else f"{when:%d/%m/%y}"
        rows.append(f"<div class='mail{' unread' if unread else ''}'><div class='top'>"
                    f"<b>{escape(sender)}</b><span class='sub'>{stamp}</span></div>"
                    f"<div class='subject'>{escape(subject)}</div><div class='sub snippet'>"
                    f"{escape(snippet)}</div></div>")
    return (f"<div class='bar'><span class='accent'>\u2039 Mailboxes</span><span class='accent'>"
            f"Edit</span></div><h1 class='title'>Inbox</h1><div class='search'>\u2315 Search"
            f"</div>{''.join(rows)}")


def _docs(ctx: PageContext, rng: random.Random) -> str:
    host = "file://" + ctx.doc_url.split("#")[0].removeprefix("file://")
    return (f"<div class='urlbar'>{escape(host[-60:])}</div>"
            f"<iframe class='doc' src='{escape(ctx.doc_url)}'></iframe>")


_KINDS: dict[str, Callable[[PageContext, random.Random], str]] = {
    "chat": _chat, "settings": _settings, "news": _news, "shopping": _shopping, "map": _map,
    "code": _code, "feed": _feed, "calendar": _calendar, "email": _email, "docs": _docs,
    "viewer": _viewer,
}

_CSS = """
:root{--bg:#fff;--fg:#111;--muted:#6e6e73;--card:#f2f2f7;--sep:#d8d8dc;--accent:#007aff;
--in:#e9e9eb;--out:#0a84ff}
body.dark{--bg:#000;--fg:#f2f2f7;--muted:#8e8e93;--card:#1c1c1e;--sep:#38383a;--accent:#0a84ff;
--in:#26262a}
*{box-sizing:border-box}
html,body{margin:0;height:100%;overflow:hidden;background:var(--bg);color:var(--fg);
font-family:'DejaVu Sans',sans-serif;font-size:15px}
body.wide main{max-width:980px;margin:0 auto}
.status{height:47px;display:flex;align-items:center;justify-content:space-between;
padding:0 30px;font-weight:bold;font-size:15px}
.status.android{height:30px;padding:0 16px;font-size:13px;font-weight:normal}
.status.tablet{height:26px;font-size:12px}
.icons{display:flex;align-items:center;gap:5px}
.bars{display:inline-flex;align-items:flex-end;gap:2px}.bars i{width:3px;background:var(--fg)}
.battery{display:inline-block;width:24px;height:12px;border:1.5px solid var(--fg);
border-radius:3px;padding:1px}.battery i{display:block;height:100%;background:var(--fg);
width:80%}
.menubar{height:25px;display:flex;gap:18px;align-items:center;padding:0 14px;font-size:13px;
background:var(--card)}.menubar .right{margin-left:auto}
.home-indicator{position:fixed;bottom:8px;left:50%;width:134px;margin-left:-67px;height:5px;
border-radius:3px;background:var(--fg)}
.bar{display:flex;justify-content:space-between;align-items:center;padding:10px 16px;
font-size:17px}
.accent,.back{color:var(--accent)}
.title{font-size:32px;margin:6px 16px 10px}
.sub{color:var(--muted);font-size:13px}
.search{margin:0 16px 14px;padding:8px 10px;border-radius:10px;background:var(--card);
color:var(--muted)}
.avatar{display:inline-block;border-radius:50%;color:#fff;text-align:center;font-weight:bold;
flex:none;font-size:14px}
.group{margin:0 16px 22px;background:var(--card);border-radius:12px;overflow:hidden}
.row{display:flex;align-items:center;gap:12px;padding:11px 14px;border-bottom:1px solid
var(--sep)}.row:last-child{border-bottom:0}.row .label{flex:1}
.row.profile{padding:14px}.row.profile>div{flex:1}
.icon{width:29px;height:29px;border-radius:7px;color:#fff;text-align:center;line-height:29px;
font-weight:bold;flex:none}
.chev{color:var(--muted);font-size:20px}
.toggle{width:51px;height:31px;border-radius:16px;background:var(--sep);position:relative}
.toggle i{position:absolute;top:2px;left:2px;width:27px;height:27px;border-radius:50%;
background:#fff}.toggle.on{background:#34c759}.toggle.on i{left:22px}
.chat-head{border-bottom:1px solid var(--sep);justify-content:flex-start;gap:10px}
.chat-head .back{font-size:34px;line-height:20px}.name{font-weight:bold}
.msgs{padding:10px 12px;display:flex;flex-direction:column;gap:6px}
.day{text-align:center;color:var(--muted);font-size:12px;margin:6px}
.msg{max-width:75%;padding:8px 12px;border-radius:18px;line-height:1.35}
.msg.in{background:var(--in);align-self:flex-start}
.msg.out{background:var(--out);color:#fff;align-self:flex-end}
.msg.pic{padding:0;overflow:hidden;background:none}.msg.pic img{width:220px;display:block;
border-radius:18px}
.composer{position:fixed;bottom:0;left:0;right:0;display:flex;gap:10px;align-items:center;
padding:8px 12px 34px;background:var(--bg);border-top:1px solid var(--sep)}
.composer .field{flex:1;border:1px solid var(--sep);border-radius:18px;padding:7px 12px;
color:var(--muted)}.plus{color:var(--muted);font-size:22px}
.site{border-bottom:1px solid var(--sep);font-family:'DejaVu Serif',serif;font-size:20px}
article{padding:12px 18px;font-family:'DejaVu Serif',serif;line-height:1.55;font-size:16px}
article h1{font-size:27px;line-height:1.2;margin:6px 0}
.kicker{color:#c0392b;font-family:'DejaVu Sans';font-weight:bold;text-transform:uppercase;
font-size:12px}.standfirst{color:var(--muted);font-size:17px}
.byline{font-family:'DejaVu Sans';font-size:12px;color:var(--muted)}
figure{margin:14px -18px}figure img{width:100%;display:block}
figcaption{font-size:11px;color:var(--muted);padding:4px 18px}
.section{margin:6px 16px;font-size:13px;color:var(--muted);text-transform:uppercase}
.check{width:24px;height:24px;border-radius:50%;border:2px solid var(--sep);text-align:center;
line-height:20px;color:#fff;font-size:14px}
.done .check{background:var(--accent);border-color:var(--accent)}
.done .label{text-decoration:line-through;color:var(--muted)}
.fab{position:fixed;bottom:40px;left:16px;color:var(--accent);font-size:17px;font-weight:bold}
.map{position:fixed;top:0;left:0}
.search.floating{position:fixed;top:56px;left:0;right:0;background:var(--bg);
box-shadow:0 2px 10px rgba(0,0,0,.25);padding:12px 16px;border-radius:24px}
.sheet{position:fixed;bottom:0;left:0;right:0;background:var(--bg);border-radius:16px 16px 0 0;
padding:8px 18px 40px;box-shadow:0 -2px 12px rgba(0,0,0,.2)}
.grip{width:36px;height:5px;border-radius:3px;background:var(--sep);margin:0 auto 6px}
.sheet h2{margin:6px 0}.stars{color:#f4b400}
.buttons{display:flex;gap:10px;margin-top:12px}.buttons span{padding:8px 16px;
border-radius:18px;background:var(--card);color:var(--accent)}
.buttons .primary{background:var(--accent);color:#fff}
.editor{background:#1e1e1e;color:#d4d4d4;height:100vh}
body:not(.dark) .editor{background:#fffffe;color:#1f1f1f}
.tabs{display:flex;background:rgba(128,128,128,.15);font-size:12px}
.tab{padding:8px 14px;color:#9d9d9d}.tab.active{color:inherit;border-bottom:2px solid #3794ff}
.code{margin:0;padding:8px 0;font-family:'DejaVu Sans Mono',monospace;font-size:12.5px;
line-height:1.5}.ln{display:inline-block;width:44px;padding-right:12px;text-align:right;
color:#858585}
.kw{color:#c586c0}.str{color:#ce9178}.com{color:#6a9955}.num{color:#b5cea8}
body:not(.dark) .kw{color:#af00db}body:not(.dark) .str{color:#a31515}
body:not(.dark) .com{color:#008000}body:not(.dark) .num{color:#098658}
.statusline{position:fixed;bottom:0;left:0;right:0;background:#007acc;color:#fff;font-size:11px;
padding:4px 10px 30px}
.stories{display:flex;gap:12px;padding:8px 12px;overflow:hidden;border-bottom:1px solid
var(--sep)}.story .avatar{border:3px solid #e1306c}
.post{padding-bottom:12px}.post-head{display:flex;gap:10px;align-items:center;padding:8px 12px}
.post img{width:100%;display:block}.post>div:not(.post-head){padding:2px 12px}
.actions{font-size:24px;letter-spacing:10px}.likes{font-weight:bold}
.logo{font-family:'DejaVu Serif';font-style:italic;font-size:24px}
.tabbar{position:fixed;bottom:0;left:0;right:0;background:var(--bg);border-top:1px solid
var(--sep);padding:10px 0 34px;font-size:24px;text-align:center;word-spacing:38px}
.month{display:grid;grid-template-columns:repeat(7,1fr);gap:6px;padding:0 10px 14px;
text-align:center}.dow{color:var(--muted);font-size:12px}
.d{padding:8px 0;position:relative}.d i{position:absolute;bottom:1px;left:50%;width:5px;
height:5px;margin-left:-2px;border-radius:50%;background:var(--muted)}
.d.today{background:#ff3b30;color:#fff;border-radius:50%}
.event{margin:8px 16px;padding:8px 12px;border-left:4px solid;background:var(--card);
border-radius:6px}
.mail{padding:10px 16px 10px 28px;border-bottom:1px solid var(--sep);position:relative}
.mail .top{display:flex;justify-content:space-between}
.mail.unread:before{content:'';position:absolute;left:10px;top:16px;width:10px;height:10px;
border-radius:50%;background:var(--accent)}
.subject{margin:2px 0}.snippet{display:-webkit-box;-webkit-line-clamp:2;
-webkit-box-orient:vertical;overflow:hidden}
.urlbar{margin:6px 12px;padding:8px 12px;border-radius:10px;background:var(--card);
font-size:13px;color:var(--muted);white-space:nowrap;overflow:hidden}
iframe.doc{border:0;width:100%;height:calc(100vh - 110px);display:block;background:#fff}
body.wide iframe.doc{height:calc(100vh - 80px)}
body.wide main{padding-top:4px}
.viewer{background:#000;color:#fff;height:100vh;display:flex;flex-direction:column}
.vbar{display:flex;justify-content:space-between;align-items:center;padding:6px 14px}
.vbar small{display:block;font-size:11px;color:#aaa;text-align:center}
.viewer .shown{width:100%;flex:1;min-height:0;object-fit:contain}
.strip{display:flex;gap:2px;height:44px;overflow:hidden}.strip img{height:44px;width:44px;
object-fit:cover}.vtools{font-size:22px;text-align:center;word-spacing:40px;padding:10px 0 30px}
"""
