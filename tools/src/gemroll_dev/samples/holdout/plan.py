"""The holdout roll's plan: every item, its labels, slices and recipe. Pure: no I/O.

    plan_holdout(seed=0) -> list[PlannedItem]      # same seed, same plan

Photos (good, in bursts, blurred, dark), screenshots, documents and photos of screens, from
`sources` only. Blur sizes are drawn at a 4000-pixel long side (2-20 px, the range the issue
calls junk) and scaled to each frame; no frame is larger than its source (nothing upscaled).
"""

from __future__ import annotations

import math
import random

from ..manifest import Category, QualityLabel
from .drafts import SOURCE_EVENT, Crops, Draft, assign_times, frame_pixels
from .encodings import assign_encodings, finalise
from .other_media import paper_drafts, screen_photo_drafts, screenshot_drafts
from .recipes import Blur, Frame, PhotoRecipe, PlannedItem
from .sources import PHOTO_BY_KEY, PHOTOS_HOLDOUT

_ASPECTS = ((4 / 3, 55), (3 / 4, 30), (16 / 9, 10), (1.0, 5))
# Sources big enough (long side >= 1200) for blur sizes to mean something at their scale.
BIG = tuple(p.key for p in PHOTOS_HOLDOUT if p.long_side >= 1200)
TWELVE_MP = (4032, 3024)
BURSTS = ("nuthatch", "jetty", "boats", "cups", "forest_path", "island_pier", "card_game",
          "coaches", "oval_office", "maple_leaf")
LOOKS = {
    "bw": ("portrait_obama", "old_street", "hotel", "cathedral", "island_pier"),
    "night": ("dusk_lake", "dusk_lake", "blue_hour", "blue_hour", "boats", "night_sign",
              "night_sign", "jetty"),  # real dusk, blue-hour, sunset and night scenes
    "low_key": ("portrait_biden", "portrait_obama", "speech", "oval_office", "coaches",
                "face_closeup"),
    "fog": ("forest_path", "island_pier", "old_street", "church_street", "aerial", "palace",
            "jetty", "bus_stop"),
    "bokeh": ("potted_plant", "quokka", "dog", "aloe", "seedlings"),
    "real_bokeh": ("maple_leaf", "maple_leaf", "nuthatch", "squirrel", "butterfly"),
}
CHAT = ("jetty", "cups", "boats", "maple_leaf", "seedlings", "forest_path", "dusk_lake",
        "nuthatch", "island_pier", "portrait_biden", "oval_office", "card_game", "coaches",
        "aloe", "barrier", "facade")
BLUR_PER_KIND = 32
DARK = 28


def plan_holdout(seed: int = 0) -> list[PlannedItem]:
    rng = random.Random(f"gemroll-holdout:{seed}")
    return _Planner(rng).plan()


def slices_of_source(key: str) -> set[str]:
    tags = PHOTO_BY_KEY[key].tags
    out = {t for t in tags if t in ("bw", "night", "fog", "macro_bokeh", "portrait")}
    return out


class _Planner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.crops = Crops(rng)

    def plan(self) -> list[PlannedItem]:
        drafts: list[Draft] = []
        drafts += self._sharp()
        drafts += self._looks()
        drafts += self._chat_copies()
        for n, key in enumerate(BURSTS):
            drafts += self._burst(f"hburst-{n + 1:02d}", key)
        drafts += self._blurry()
        drafts += self._dark()
        drafts += screen_photo_drafts(self.rng)
        drafts += screenshot_drafts(self.rng)
        drafts += paper_drafts(self.rng)
        assign_encodings(self.rng, drafts)
        assign_times(self.rng, drafts)
        return finalise(self.rng, drafts)

    # --- helpers -----------------------------------------------------------------------------
    def _aspect(self, key: str) -> float:
        photo = PHOTO_BY_KEY[key]
        if photo.size[1] > photo.size[0] * 1.15:  # portrait sources stay portrait
            return self.rng.choice((3 / 4, 3 / 4, 9 / 16))
        values, weights = zip(*_ASPECTS, strict=True)
        return self.rng.choices(values, weights)[0]

    def _frame(self, key: str, *, twelve: bool = False, scale: tuple[float, float] | None = None
               ) -> Frame:
        if twelve:
            return self.crops.take(key, 4 / 3, pixels=TWELVE_MP)
        long_side = PHOTO_BY_KEY[key].long_side
        if scale is None:  # small sources are cropped less: no frame is tiny
            scale = (0.7, 1.0) if long_side >= 2000 else (0.75, 1.0) if long_side >= 1000 else (
                0.85, 1.0)
        return self.crops.take(key, self._aspect(key), scale=scale)

    def _photo(self, frame: Frame, quality: QualityLabel, variant: str, slices: set[str],
               **recipe: object) -> Draft:
        iso = int(recipe.pop("iso", self.rng.choice((50, 64, 100, 125, 160, 200))))
        seed = self.rng.randrange(2**31)
        r = PhotoRecipe(frame, iso=iso, seed=seed, **recipe)  # type: ignore[arg-type]
        px = frame_pixels(frame)
        extra = {"12mp"} if px[0] * px[1] >= 11_500_000 else set()
        source = frame.source
        if r.blur is not None and quality is QualityLabel.blurry:
            extra.add(_stored_slice(r.blur.px, max(px), r.delivered))
        d = Draft(Category.photo, quality, r, SOURCE_EVENT.get(source, "daily"), variant,
                  slices | extra, source=source)
        d.evening = "night" in d.slices or r.look in ("night", "dark")
        return d

    # --- good photos -------------------------------------------------------------------------
    def _sharp(self) -> list[Draft]:
        out = []
        for photo in PHOTOS_HOLDOUT:
            if "real_blur" in photo.tags:
                out.append(self._photo(Frame(photo.key, (0, 0, 1, 1)), QualityLabel.blurry,
                                       "real_motion_blur", {"blur_real", "blur_motion"}))
                continue
            slices = slices_of_source(photo.key) | {"sharp"}
            out.append(self._photo(self._frame(photo.key, scale=(0.85, 1.0)), QualityLabel.good,
                                   "sharp", slices))
        for _ in range(3):  # 12-megapixel frames of the one 20-megapixel source
            out.append(self._photo(self._frame("nuthatch", twelve=True), QualityLabel.good,
                                   "sharp", {"sharp", "macro_bokeh"}))
        return out

    def _looks(self) -> list[Draft]:
        rng, out = self.rng, []
        mixes = ((0.2126, 0.7152, 0.0722), (0.5, 0.4, 0.1), (0.3, 0.59, 0.11), (0.1, 0.3, 0.6))
        for key in LOOKS["bw"]:
            out.append(self._photo(self._frame(key), QualityLabel.good, "bw", {"bw"},
                                   look="bw", mix=rng.choice(mixes)))
        for key in LOOKS["night"]:
            real = "night" in PHOTO_BY_KEY[key].tags
            ev = 0.0 if real and rng.random() < 0.5 else round(rng.uniform(-2.0, -1.0), 2)
            out.append(self._photo(self._frame(key), QualityLabel.good, "night", {"night"},
                                   look="night", amount=ev, iso=rng.choice((800, 1250, 2000))))
        for key in LOOKS["low_key"]:
            out.append(self._photo(self._frame(key), QualityLabel.good, "low_key",
                                   {"low_key", "portrait"}, look="low_key",
                                   amount=round(rng.uniform(2.5, 4.0), 2)))
        for key in LOOKS["fog"]:
            out.append(self._photo(self._frame(key), QualityLabel.good, "fog", {"fog"},
                                   look="fog", amount=round(rng.uniform(0.6, 1.6), 2)))
        for key in LOOKS["bokeh"]:
            out.append(self._photo(self._frame(key, scale=(0.85, 1.0)), QualityLabel.good,
                                   "bokeh", {"macro_bokeh"}, look="bokeh",
                                   amount=round(rng.uniform(40, 90), 1)))
        for key in LOOKS["real_bokeh"]:
            twelve = key == "nuthatch"
            out.append(self._photo(self._frame(key, twelve=twelve, scale=(0.7, 0.9)),
                                   QualityLabel.good, "bokeh_real", {"macro_bokeh"}))
        return out

    def _chat_copies(self) -> list[Draft]:
        out = []
        for n, key in enumerate(CHAT):
            frame = self._frame(key, twelve=key == "nuthatch")
            long_side = max(frame_pixels(frame))
            target = 1600 if n % 2 == 0 and long_side >= 1600 else 1280
            out.append(self._photo(frame, QualityLabel.good, "chat_copy",
                                   {"chat_copy", "no_exif"} | slices_of_source(key),
                                   delivered=min(target, long_side)))
        return out

    def _burst(self, burst_id: str, key: str) -> list[Draft]:
        rng = self.rng
        base = self._frame(key, twelve=key == "nuthatch")
        n = rng.randint(3, 6) if key != "nuthatch" else 4
        best = rng.randrange(n)
        blurred = rng.choice([i for i in range(n) if i != best]) if n >= 4 else -1
        frames = []
        for i in range(n):
            frame, blur, ev, quality, variant = base, None, 0.0, QualityLabel.good, "burst_best"
            if i != best:  # each other frame moved, exposed off and shaken more
                frame = _jitter(rng, base)
                ev = round(rng.choice((-1, 1)) * rng.uniform(0.3, 0.7), 2)
                if i == blurred:
                    blur = Blur("shake", round(rng.uniform(8, 16), 1))
                    quality, variant = QualityLabel.blurry, "burst_shake"
                else:  # a touch of tremor, scaled with the frame: under 2 px
                    scale = max(frame_pixels(frame)) / 4000
                    blur = Blur("shake", round(rng.uniform(1.2, 1.9), 2) * scale)
                    variant = "burst_frame"
            d = self._photo(frame, quality, variant, {"burst"} | slices_of_source(key),
                            blur=blur, ev=ev, iso=160)
            d.burst_id, d.is_best_shot, d.frame = burst_id, i == best, i
            if quality is QualityLabel.blurry and blur:
                d.slices |= {"blur_shake", _size_slice(blur.px)}
            frames.append(d)
        return frames

    # --- junk photos -------------------------------------------------------------------------
    def _blurry(self) -> list[Draft]:
        rng, out = self.rng, []
        night_sources = ("dusk_lake", "blue_hour", "boats", "night_sign")
        for kind in ("motion", "shake", "defocus"):
            for i in range(BLUR_PER_KIND):
                small = i % 5 < 2  # 40 % in 2-5 px, the rest 5-20 px (log-uniform)
                px = rng.uniform(2, 5) if small else math.exp(rng.uniform(math.log(5),
                                                                         math.log(20)))
                key = rng.choice(BIG)
                night = kind == "shake" and i < 4
                if night:
                    key = night_sources[i]
                twelve = key == "nuthatch" and rng.random() < 0.6
                frame = self._frame(key, twelve=twelve)
                blur = Blur(kind, round(px, 2), round(rng.uniform(0, 180), 1))
                slices = {f"blur_{kind}", _size_slice(px)} | slices_of_source(key)
                recipe: dict[str, object] = {"blur": blur}
                if night:
                    recipe.update(look="night", amount=-1.0, iso=1600)
                    slices.add("night")
                chat = i % 8 == 7 and not small
                if chat:
                    long_side = max(frame_pixels(frame))
                    recipe["delivered"] = min(1600, long_side)
                    slices |= {"chat_copy", "no_exif"}
                out.append(self._photo(frame, QualityLabel.blurry, f"{kind}_blur", slices,
                                       **recipe))
        return out

    def _dark(self) -> list[Draft]:
        rng, out = self.rng, []
        keys = [p.key for p in PHOTOS_HOLDOUT if p.long_side >= 640 and "real_blur" not in p.tags]
        for i in range(DARK):
            key = keys[i % len(keys)] if i < len(keys) else rng.choice(keys)
            frame = self._frame(key)
            recipe: dict[str, object] = {
                "look": "dark", "amount": round(rng.uniform(0.012, 0.07), 3),
                "iso": rng.choice((1600, 3200, 4000, 6400))}
            slices = {"dark"}
            if i % 7 == 6:
                recipe["delivered"] = min(1280, max(frame_pixels(frame)))
                slices |= {"chat_copy", "no_exif"}
            out.append(self._photo(frame, QualityLabel.dark, "dark", slices, **recipe))
        return out


def _size_slice(px: float) -> str:
    return "blur_2-5px" if px < 5 else "blur_5-20px"


def _stored_slice(px: float, frame_long_side: int, delivered: int | None) -> str:
    """The blur in pixels of the file as stored: a chat app's smaller copy shrinks it (under
    2 px no measure can tell it from a sharp photo's own softness)."""
    stored = px * (delivered / frame_long_side if delivered else 1.0)
    return "blur_stored_under_2px" if stored < 2 else "blur_stored_2px_up"


def _jitter(rng: random.Random, frame: Frame) -> Frame:
    """A burst neighbour: the framing shifted by 1-3 % (the hand moved between frames)."""
    x0, y0, x1, y1 = frame.box
    w, h = x1 - x0, y1 - y0
    dx = rng.uniform(-0.03, 0.03) * w
    dy = rng.uniform(-0.03, 0.03) * h
    dx = min(max(dx, -x0), 1 - x1)
    dy = min(max(dy, -y0), 1 - y1)
    return Frame(frame.source, (round(x0 + dx, 6), round(y0 + dy, 6), round(x1 + dx, 6),
                                round(y1 + dy, 6)), frame.flip)
