"""The planner's working state: drafts of items, crops that avoid each other, times."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from ..manifest import Category, GpsPoint, QualityLabel
from .recipes import Encoding, Frame, Recipe
from .sources import EVENT_DAYS_HOLDOUT, EVENTS_HOLDOUT, PHOTO_BY_KEY, Box

EVENT_BY_KEY = {e.key: e for e in EVENTS_HOLDOUT}

# Where each source photo was "taken" (its event in the roll).
SOURCE_EVENT = {
    **dict.fromkeys(("island_pier", "jetty", "cups", "quokka"), "islands"),
    **dict.fromkeys(("old_street", "church_street", "dome", "cathedral", "palace", "hotel",
                     "graffiti", "parking_sign", "barrier", "night_sign", "facade", "bus_stop",
                     "kick"), "old_town"),
    **dict.fromkeys(("dusk_lake", "blue_hour", "boats", "forest_path", "fog_pier",
                     "maple_leaf", "nuthatch", "seedlings", "squirrel", "butterfly", "aerial"),
                    "lakes"),
    **dict.fromkeys(("dog", "card_game", "portrait_biden", "portrait_obama", "speech",
                     "oval_office", "sweets", "fruit", "aloe", "potted_plant", "coaches",
                     "face_closeup"), "family"),
}


@dataclass
class Draft:
    category: Category
    quality: QualityLabel
    recipe: Recipe
    event: str
    variant: str
    slices: set[str]
    source: str | None = None  # the photo it is made of (keeps its shots apart in time)
    burst_id: str | None = None
    is_best_shot: bool = True
    frame: int = 0
    device: str = "samsung"
    encoding: Encoding | None = None
    captured_at: datetime | None = None
    gps: GpsPoint | None = None
    evening: bool = False
    tags: set[str] = field(default_factory=set)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


class Crops:
    """Crops of each source that overlap earlier crops of it as little as possible."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: dict[str, list[Frame]] = {}

    def take(self, key: str, aspect: float, *, scale: tuple[float, float] = (0.6, 1.0),
             pixels: tuple[int, int] | None = None) -> Frame:
        rng, photo = self.rng, PHOTO_BY_KEY[key]
        width, height = photo.size
        sx0, sy0, sx1, sy1 = photo.subject
        avoid = self.used.setdefault(key, [])
        best: tuple[float, Frame] | None = None
        for _ in range(32):
            if pixels:
                cw, ch = min(pixels[0], width), min(pixels[1], height)
            else:
                s = rng.uniform(*scale)
                if width / height > aspect:
                    ch = height * s
                    cw = ch * aspect
                else:
                    cw = width * s
                    ch = cw / aspect
            fw, fh = cw / width, ch / height
            x0, y0 = _place(rng, fw, sx0, sx1), _place(rng, fh, sy0, sy1)
            frame = Frame(key, (round(x0, 6), round(y0, 6), round(x0 + fw, 6),
                                round(y0 + fh, 6)), flip=rng.random() < 0.3)
            overlap = max((iou(frame.box, f.box) + (0.25 if f.flip == frame.flip else 0)
                           for f in avoid), default=0.0)
            if best is None or overlap < best[0]:
                best = (overlap, frame)
            if overlap < 0.3:
                break
        assert best is not None
        avoid.append(best[1])
        return best[1]


def frame_pixels(frame: Frame) -> tuple[int, int]:
    width, height = PHOTO_BY_KEY[frame.source].size
    x0, y0, x1, y1 = frame.box
    return round(x1 * width) - round(x0 * width), round(y1 * height) - round(y0 * height)


def _place(rng: random.Random, size: float, lo: float, hi: float) -> float:
    """Start of a window of `size` whose middle 60 % holds the subject's centre."""
    centre = (lo + hi) / 2
    start_min = max(0.0, centre - 0.8 * size)
    start_max = min(1.0 - size, centre - 0.2 * size)
    if start_max < start_min:
        return max(0.0, min(1.0 - size, centre - size / 2))
    return rng.uniform(start_min, start_max)


def _tz(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def assign_times(rng: random.Random, drafts: list[Draft]) -> None:
    """Capture times within each event's days; shots of one source at least an hour apart and
    any two photos at least 6 minutes apart (so only bursts are near duplicates in time)."""
    moments: dict[str, list[Draft]] = {}
    singles: list[list[Draft]] = []
    for d in drafts:
        if d.burst_id:
            moments.setdefault(d.burst_id, []).append(d)
        else:
            singles.append([d])
    groups = singles + [sorted(f, key=lambda x: x.frame) for f in moments.values()]
    rng.shuffle(groups)
    taken: list[tuple[datetime, str | None, bool]] = []
    for group in groups:
        lead = group[0]
        info = EVENT_BY_KEY[lead.event]
        tz = _tz(info.utc_offset)
        first, days = EVENT_DAYS_HOLDOUT[lead.event]
        photo = lead.category is Category.photo
        at = datetime.combine(date.fromisoformat(first), time(8), tz)
        for _ in range(200):
            day = date.fromisoformat(first) + timedelta(days=rng.randrange(days))
            start, span = (19 * 3600, 4 * 3600) if lead.evening else (8 * 3600, 13 * 3600)
            at = datetime.combine(day, time(0), tz) + timedelta(
                seconds=start + rng.randrange(span), milliseconds=rng.randrange(1000))
            if all(_apart(at, lead.source, photo, other) for other in taken):
                break
        taken.append((at, lead.source, photo))
        for d in group:
            d.captured_at = at
            at += timedelta(milliseconds=rng.randrange(300, 700))
            if d.category is not Category.screenshot and info.gps and rng.random() < 0.8:
                d.gps = GpsPoint(lat=round(info.gps.lat + rng.uniform(-0.015, 0.015), 6),
                                 lon=round(info.gps.lon + rng.uniform(-0.015, 0.015), 6))


def _apart(at: datetime, source: str | None, photo: bool,
           other: tuple[datetime, str | None, bool]) -> bool:
    gap = abs((at - other[0]).total_seconds())
    if source is not None and source == other[1] and gap < 3600:
        return False
    return not (photo and other[2] and gap < 360)
