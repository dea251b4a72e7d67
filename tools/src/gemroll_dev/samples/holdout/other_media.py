"""Drafts of the holdout's screenshots, documents and photos of screens."""

from __future__ import annotations

import random

from ..manifest import Category, QualityLabel
from .drafts import Draft
from .recipes import Frame, PaperRecipe, PhotoRecipe, ScreenPhotoRecipe, ScreenRecipe
from .sources import DOC_PAGES_HOLDOUT, NEWSPAPER, PHOTOS_HOLDOUT, SCREEN_DEVICE

PHONE_VIEWS = ("galaxy_s23", "iphone15promax", "iphone_se", "pixel8a")
WIDE_VIEWS = ("ipad_air", "laptop", "macbook_air", "monitor_qhd")
# Pages and how many of each; `feed`, `market`, `viewer`, `chat`, `article` show real photos.
SCREENS = (("docs", 16), ("feed", 10), ("market", 4), ("viewer", 6), ("article", 5),
           ("chat", 5))
TABLES = ("desk", "notebook", "jetty")
PAPERS = ((("receipt", "table"), 12), (("page", "table"), 6), (("bill", "table"), 4),
          (("ticket", "table"), 3), (("page", "scan"), 2), (("bill", "scan"), 1),
          (("receipt", "scan"), 1))
SCREEN_PHOTOS = 10
_PICTURES = tuple(p.key for p in PHOTOS_HOLDOUT if p.long_side >= 900
                  and "real_blur" not in p.tags)
_ROOMS = ("desk", "notebook", "hotel", "corridor", "groceries", "card_game")


def screenshot_drafts(rng: random.Random) -> list[Draft]:
    out = []
    pages = list(DOC_PAGES_HOLDOUT)
    rng.shuffle(pages)
    for page, count in SCREENS:
        for i in range(count):
            phone = rng.random() < (0.35 if page == "docs" else 0.85)
            view = rng.choice(PHONE_VIEWS if phone else WIDE_VIEWS)
            photos: tuple[str, ...] = ()
            doc = None
            if page == "docs":
                doc = pages[i % len(pages)][1]
            else:
                n = {"feed": 3, "market": 6, "viewer": 1, "article": 2, "chat": 2}[page]
                photos = tuple(rng.sample(_PICTURES, n))
            recipe = ScreenRecipe(page, rng.randrange(2**31), view,
                                  dark=page != "docs" and rng.random() < 0.3, photos=photos,
                                  doc_page=doc, anchor=rng.randrange(1, 40))
            slices = {f"screenshot_{page}"}
            if page in ("feed", "market", "article"):
                slices.add("feed_screenshot")
            if page == "viewer":
                slices.add("screenshot_of_photo")
            d = Draft(Category.screenshot, QualityLabel.good, recipe, "daily", f"page:{page}",
                      slices, device=SCREEN_DEVICE[view])
            out.append(d)
    return out


def paper_drafts(rng: random.Random) -> list[Draft]:
    out = []
    n = 0
    for (kind, presentation), count in PAPERS:
        for _ in range(count):
            table = TABLES[n % len(TABLES)] if presentation == "table" else None
            n += 1
            recipe = PaperRecipe(kind, rng.randrange(2**31), presentation,  # type: ignore[arg-type]
                                 table, rng.choice((4032, 3264, 3264)))
            slices = {f"document_{kind}", f"document_{presentation}"}
            if kind == "receipt" and presentation == "table":
                slices.add("receipt_on_table")
            event = "daily"
            if kind in ("receipt", "ticket") and rng.random() < 0.5:
                event = rng.choice(("old_town", "islands", "lakes"))
            device = "scanner" if presentation == "scan" else rng.choice(
                ("samsung", "iphone", "pixel"))
            out.append(Draft(Category.document, QualityLabel.good, recipe, event,
                             f"{kind}:{presentation}", slices, device=device))
    # A real photo of a newspaper page (OpenCV's sudoku), as a phone user would take it.
    real = PhotoRecipe(Frame(NEWSPAPER.key, (0, 0, 1, 1)), seed=rng.randrange(2**31), iso=200)
    out.append(Draft(Category.document, QualityLabel.good, real, "daily", "newspaper:real",
                     {"document_real"}, source=NEWSPAPER.key, device="pixel"))
    return out


def screen_photo_drafts(rng: random.Random) -> list[Draft]:
    """Photos of a display showing a photo: category photo and, being a picture someone
    chose to keep (a TV's slideshow, a video call, a photo on a friend's laptop), a gem."""
    out = []
    displays = ("monitor", "tv", "laptop")
    for i in range(SCREEN_PHOTOS):
        content = rng.choice(_PICTURES)
        room = _ROOMS[i % len(_ROOMS)]
        recipe = ScreenPhotoRecipe(content, displays[i % 3], room,  # type: ignore[arg-type]
                                   rng.randrange(2**31), rng.choice((4032, 3264)))
        out.append(Draft(Category.photo, QualityLabel.good, recipe,
                         rng.choice(("family", "daily")), f"screen_photo:{displays[i % 3]}",
                         {"photo_of_screen"}, device=rng.choice(("samsung", "iphone", "pixel"))))
    return out
