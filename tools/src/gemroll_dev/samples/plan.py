"""The plan of a sample camera roll: every item, its labels and its recipe. Pure: no I/O.

The plan depends only on the size and the seed, never on the machine, so the same seed always
gives the same labels. The builder then turns each planned item into a file.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from . import catalog
from .catalog import PHOTOS, TABLE_PHOTOS, RealPhoto
from .manifest import (
    Category,
    GpsPoint,
    ImageFormat,
    JunkReason,
    QualityLabel,
    SizeName,
    is_expected_gem,
    junk_reason,
)
from .parallel import unique_name

EffectKind = Literal["none", "gaussian_blur", "motion_blur", "dark", "soft", "defocus",
                     "shake", "pan", "bokeh", "night", "low_key", "fog"]
PixelMode = Literal["RGB", "L", "CMYK", "RGB16"]


@dataclass(frozen=True)
class Crop:
    """A window of a source photo, in fractions of its width and height."""

    x0: float
    y0: float
    x1: float
    y1: float
    flip: bool = False

    def iou(self, other: Crop) -> float:
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def describe(self) -> str:
        flip = " mirrored" if self.flip else ""
        return f"crop({self.x0:.3f},{self.y0:.3f},{self.x1:.3f},{self.y1:.3f}){flip}"


@dataclass(frozen=True)
class Effect:
    """What happens to the pixels after cropping; sizes are fractions of the long side."""

    kind: EffectKind = "none"
    amount: float = 0.0  # blur radius, iris diameter (defocus) or motion length (fraction),
    # or target luminance (dark)
    angle: float = 0.0  # motion blur direction (or the iris's rotation) in degrees
    gain: float = 1.0  # brightness factor (burst frames)

    def describe(self) -> str:
        if self.kind == "none":
            return f"gain({self.gain:.2f})" if self.gain != 1.0 else "as shot"
        if self.kind == "dark":
            return f"underexposed(mean_luma={self.amount:.3f})+sensor_noise"
        if self.kind in ("motion_blur", "shake", "pan"):
            return f"{self.kind}(length={self.amount:.4f}*long_side, angle={self.angle:.0f})"
        if self.kind == "defocus":
            return f"defocus(iris={self.amount:.5f}*long_side, rotation={self.angle:.0f})"
        if self.kind in ("night", "low_key", "fog"):
            return f"{self.kind}(level={self.amount:.3f})"
        return f"{self.kind}(radius={self.amount:.4f}*long_side) gain({self.gain:.2f})"


PHONE_SHARPEN = (1.2, 55)  # the unsharp mask of every photo but the training roll's: px, %


@dataclass(frozen=True)
class PhotoRecipe:
    source: str  # catalog key
    crop: Crop
    long_side: int
    effect: Effect
    grain: float  # sensor noise, in 8-bit levels
    seed: int
    sharpen: tuple[float, int] = PHONE_SHARPEN  # the phone's unsharp mask: radius (px), percent

    def describe(self) -> str:
        text = f"{self.crop.describe()} resize(long={self.long_side}) {self.effect.describe()}"
        if self.sharpen != PHONE_SHARPEN:
            text += f" unsharp(radius={self.sharpen[0]:.2f}, percent={self.sharpen[1]})"
        return text


@dataclass(frozen=True)
class ScreenRecipe:
    page: str  # catalog.PAGE_KINDS
    page_seed: int
    viewport: str  # catalog.VIEWPORTS name
    dark_theme: bool
    doc_page: str | None = None  # real HTML file for page "docs"
    anchor: int = 0  # which section of the doc page to scroll to

    def describe(self) -> str:
        theme = "dark" if self.dark_theme else "light"
        return f"chromium screenshot page={self.page} seed={self.page_seed} {theme} {self.viewport}"


@dataclass(frozen=True)
class DocumentRecipe:
    kind: str  # catalog.DOCUMENT_KINDS
    doc_seed: int
    photographed: bool
    table: str | None  # catalog TABLE_PHOTOS key under a photographed document
    tilt: float  # degrees
    fill: float  # fraction of the frame the paper covers
    warp: float  # perspective strength
    long_side: int
    seed: int

    def describe(self) -> str:
        if not self.photographed:
            return f"{self.kind} seed={self.doc_seed} flat scan tilt={self.tilt:.1f}"
        return (f"{self.kind} seed={self.doc_seed} photographed on {self.table} "
                f"tilt={self.tilt:.1f} fill={self.fill:.2f} warp={self.warp:.3f} "
                f"paper tint, shading, lens blur, noise")


Recipe = PhotoRecipe | ScreenRecipe | DocumentRecipe


@dataclass(frozen=True)
class ExifSpec:
    make: str
    model: str
    software: str
    lens: str | None
    focal_mm: float | None
    iso: int | None
    exposure_s: float | None
    f_number: float | None
    gps: GpsPoint | None


@dataclass(frozen=True)
class Encoding:
    format: ImageFormat
    quality: int
    pixel_mode: PixelMode = "RGB"
    orientation: int = 1
    exif: ExifSpec | None = None


@dataclass(frozen=True)
class PlannedItem:
    id: str
    file_name: str
    category: Category
    quality: QualityLabel
    burst_id: str | None
    is_best_shot: bool
    event: str
    captured_at: datetime
    recipe: Recipe
    encoding: Encoding
    variant: str
    device: str  # "iphone", "pixel", "ipad", "mac", "scanner", "messenger", ...

    @property
    def expected_gem(self) -> bool:
        return is_expected_gem(self.category, self.quality, self.is_best_shot)

    @property
    def junk_reason(self) -> JunkReason | None:
        return junk_reason(self.category, self.quality, self.is_best_shot)


@dataclass(frozen=True)
class SizeSpec:
    good: int
    bursts: int
    burst_frames: tuple[int, int]
    blurry: int
    dark: int
    screenshots: int
    documents: int
    heic: int  # good photos saved as HEIC (plus a share of junk photos)
    webp: int
    rotated: int  # JPEGs stored sideways with EXIF orientation 6
    grayscale: int
    cmyk: int
    png16: int
    stripped: int  # good photos without camera EXIF (received through a messenger)
    jpeg_screenshots: int
    long_sides: tuple[int, ...] = (2016, 1632, 1440)
    # the training roll's extras: precise blur from barely visible to plain (fractions of the
    # long side, log-uniform), and good photos that rules mistake for junk
    fine_blurry: int = 0
    bokeh: int = 0
    night: int = 0
    low_key: int = 0
    fog: int = 0
    chat_copies: int = 0  # good photos resent by a messenger: 1600 or 1280 px, no EXIF
    photo_screens: int = 0  # screenshots mostly of a photo (catalog.PHOTO_PAGE_KINDS)
    max_scale: float = 1.1  # largest resize of the crop (the training roll never upscales:
    # an upscaled "good" photo is as soft as a blurred one)
    # each photo's unsharp mask drawn from (radius range, percent range); None: one for all
    sharpening: tuple[tuple[float, float], tuple[int, int]] | None = None


SIZES: dict[str, SizeSpec] = {
    "demo": SizeSpec(good=16, bursts=2, burst_frames=(3, 5), blurry=5, dark=4, screenshots=10,
                     documents=6, heic=2, webp=1, rotated=2, grayscale=1, cmyk=1, png16=1,
                     stripped=0, jpeg_screenshots=0),
    "eval": SizeSpec(good=110, bursts=16, burst_frames=(3, 6), blurry=55, dark=45,
                     screenshots=80, documents=50, heic=14, webp=6, rotated=8, grayscale=3,
                     cmyk=2, png16=2, stripped=5, jpeg_screenshots=6),
    # `make train-classifier` fits the learned head on this size (seed 0; see train_classifier)
    "train": SizeSpec(good=90, bursts=14, burst_frames=(3, 5), blurry=20, dark=40,
                      screenshots=70, documents=45, heic=10, webp=5, rotated=8, grayscale=3,
                      cmyk=2, png16=2, stripped=6, jpeg_screenshots=6,
                      long_sides=(4032, 3024, 2016, 1632), fine_blurry=150, bokeh=24,
                      night=14, low_key=12, fog=14, chat_copies=16, photo_screens=16,
                      max_scale=0.6,
                      sharpening=((0.7, 1.8), (25, 100))),
}

_ASPECTS = ((4 / 3, 45), (3 / 4, 30), (16 / 9, 10), (1.0, 10), (9 / 16, 5))


def plan_camera_roll(size: SizeName, seed: int = 0) -> list[PlannedItem]:
    """Every item of the roll, in capture order, with labels, recipe and file name."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)} (or bench)")
    return _Planner(SIZES[size], random.Random(f"gemroll-samples:{size}:{seed}")).plan()


# ---------------------------------------------------------------------------------------------
@dataclass
class _Draft:
    """An item before times, formats and names are settled."""

    category: Category
    quality: QualityLabel
    recipe: Recipe
    event: str
    variant: str
    burst_id: str | None = None
    is_best_shot: bool = True
    frame: int = 0  # position inside a burst
    device: str = "iphone"
    encoding: Encoding | None = None
    captured_at: datetime | None = None
    gps: GpsPoint | None = None
    tags: set[str] = field(default_factory=set)


class _Planner:
    def __init__(self, spec: SizeSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.used_crops: dict[str, list[Crop]] = {}
        self.uses: dict[str, int] = {}
        order = list(PHOTOS)
        rng.shuffle(order)
        # Grayscale sources first so a real black-and-white photo is among the gems.
        self.order = sorted(order, key=lambda p: not p.grayscale)
        self.cursor = 0

    def plan(self) -> list[PlannedItem]:
        spec = self.spec
        drafts: list[_Draft] = []
        drafts += [self._good_photo() for _ in range(spec.good)]
        for n in range(spec.bursts):
            drafts += self._burst(f"burst-{n + 1:02d}")
        drafts += [self._blurry_photo(i) for i in range(spec.blurry)]
        drafts += [self._finely_blurred(i) for i in range(spec.fine_blurry)]
        drafts += [self._hard_good(kind) for kind, n in (
            ("bokeh", spec.bokeh), ("night", spec.night), ("low_key", spec.low_key),
            ("fog", spec.fog), ("chat_copy", spec.chat_copies)) for _ in range(n)]
        drafts += [self._dark_photo() for _ in range(spec.dark)]
        drafts += [self._screenshot(i) for i in range(spec.screenshots)]
        drafts += [self._screenshot(i, catalog.PHOTO_PAGE_KINDS)
                   for i in range(spec.photo_screens)]
        drafts += [self._document(i) for i in range(spec.documents)]
        self._assign_devices(drafts)
        self._assign_times(drafts)
        self._assign_encodings(drafts)
        return self._finalise(drafts)

    # --- sources and crops ------------------------------------------------------------------
    def _next_source(self, *, for_gem: bool, min_mp: float = 0.0) -> RealPhoto:
        for _ in range(len(self.order) * 12):
            photo = self.order[self.cursor % len(self.order)]
            self.cursor += 1
            if photo.megapixels < min_mp:
                continue
            if for_gem and self.uses.get(photo.key, 0) >= _capacity(photo):
                continue
            self.uses[photo.key] = self.uses.get(photo.key, 0) + int(for_gem)
            return photo
        raise ValueError("not enough real photos for this many distinct good photos")

    def _aspect(self) -> float:
        values, weights = zip(*_ASPECTS, strict=True)
        return self.rng.choices(values, weights)[0]

    def _crop(self, photo: RealPhoto, aspect: float, *, distinct: bool) -> Crop:
        crop = choose_crop(self.rng, photo, aspect,
                           self.used_crops.get(photo.key, []) if distinct else [])
        if distinct:
            self.used_crops.setdefault(photo.key, []).append(crop)
        return crop

    def _long_side(self, photo: RealPhoto, crop: Crop) -> int:
        native = max((crop.x1 - crop.x0) * photo.size[0], (crop.y1 - crop.y0) * photo.size[1])
        return _even(min(self.rng.choice(self.spec.long_sides), native * self.spec.max_scale))

    def _photo_recipe(self, photo: RealPhoto, crop: Crop, effect: Effect,
                      grain: tuple[float, float] = (0.8, 2.0)) -> PhotoRecipe:
        recipe = PhotoRecipe(photo.key, crop, self._long_side(photo, crop), effect,
                             round(self.rng.uniform(*grain), 2), self.rng.randrange(2**31))
        if self.spec.sharpening is None:
            return recipe
        radii, percents = self.spec.sharpening
        return replace(recipe, sharpen=(round(self.rng.uniform(*radii), 2),
                                        self.rng.randint(*percents)))

    # --- the kinds of items -----------------------------------------------------------------
    def _good_photo(self) -> _Draft:
        photo = self._next_source(for_gem=True)
        crop = self._crop(photo, self._aspect(), distinct=True)
        recipe = self._photo_recipe(photo, crop, Effect())
        draft = _Draft(Category.photo, QualityLabel.good, recipe, photo.event, "good")
        if photo.grayscale:
            draft.tags.add("grayscale_source")
        return draft

    def _burst(self, burst_id: str) -> list[_Draft]:
        rng = self.rng
        photo = self._next_source(for_gem=True, min_mp=0.2)
        base = self._crop(photo, self._aspect(), distinct=True)
        n = rng.randint(*self.spec.burst_frames)
        best = rng.randrange(n)
        blurred = rng.choice([i for i in range(n) if i != best])
        long_side = self._long_side(photo, base)
        seed = rng.randrange(2**31)
        frames = []
        for i in range(n):
            if i == best:
                crop, effect, quality, variant = base, Effect(), QualityLabel.good, "burst_best"
            else:
                crop = _jitter(rng, base)
                gain = round(rng.uniform(0.93, 1.07), 3)
                if i == blurred:
                    effect = Effect("motion_blur", round(rng.uniform(0.03, 0.05), 4),
                                    round(rng.uniform(0, 180), 1), gain)
                    quality, variant = QualityLabel.blurry, "burst_motion_blur"
                else:
                    effect = Effect("soft", round(rng.uniform(0.0007, 0.0012), 5), 0.0, gain)
                    quality, variant = QualityLabel.good, "burst_frame"
            recipe = PhotoRecipe(photo.key, crop, long_side, effect, 1.5, seed + i)
            frames.append(_Draft(Category.photo, quality, recipe, photo.event, variant,
                                 burst_id=burst_id, is_best_shot=i == best, frame=i))
        return frames

    def _blurry_photo(self, index: int) -> _Draft:
        photo = self._next_source(for_gem=False)
        crop = self._crop(photo, self._aspect(), distinct=False)
        if index % 2 == 0:
            effect = Effect("gaussian_blur", round(self.rng.uniform(0.008, 0.016), 4))
            variant = "gaussian_blur"
        else:
            effect = Effect("motion_blur", round(self.rng.uniform(0.04, 0.07), 4),
                            round(self.rng.uniform(0, 180), 1))
            variant = "motion_blur"
        recipe = self._photo_recipe(photo, crop, effect, grain=(0.6, 1.2))
        return _Draft(Category.photo, QualityLabel.blurry, recipe, photo.event, variant)

    def _finely_blurred(self, index: int) -> _Draft:
        """Defocus (an iris), a pan or hand tremor (`camera`), exactly as wide as planned:
        2 to 20 px of the photo as stored (the blur the product must catch on 12 MP frames,
        and on a smaller sensor's frames in their own pixels), 40 % of it in 2-5 px, where a
        viewer barely notices and the head must draw its line, the rest log-uniform."""
        photo = self._next_source(for_gem=False, min_mp=1.5)
        crop = self._crop(photo, self._aspect(), distinct=False)
        rng = self.rng
        kind = ("defocus", "pan", "shake")[index % 3]
        px = rng.uniform(2, 5) if index % 5 < 2 else math.exp(rng.uniform(math.log(5),
                                                                          math.log(20)))
        angle = round(rng.uniform(0, 180), 1)
        recipe = self._photo_recipe(photo, crop, Effect())  # the sharp photos' grain: noise
        effect = Effect(kind, round(px / recipe.long_side, 6), angle)  # says nothing of blur
        return _Draft(Category.photo, QualityLabel.blurry, replace(recipe, effect=effect),
                      photo.event, kind)

    def _hard_good(self, kind: str) -> _Draft:
        """Good photos that look like junk to simple rules: a sharp subject on a blurred
        background, a night scene with lights, a low-key shot, haze, a messenger's copy."""
        photo = self._next_source(for_gem=False, min_mp=1.0)
        crop = self._crop(photo, self._aspect(), distinct=False)
        rng = self.rng
        amounts = {"bokeh": (0.004, 0.012), "night": (0.02, 0.06), "low_key": (0.08, 0.16),
                   "fog": (0.35, 0.6)}
        effect = Effect()
        if kind in amounts:
            effect = Effect(kind, round(rng.uniform(*amounts[kind]), 4))  # type: ignore[arg-type]
        recipe = self._photo_recipe(photo, crop, effect)
        if kind == "chat_copy":
            recipe = replace(recipe, long_side=min(recipe.long_side, rng.choice((1600, 1280))))
        draft = _Draft(Category.photo, QualityLabel.good, recipe, photo.event, kind)
        if kind == "chat_copy":
            draft.tags.add("stripped")
        return draft

    def _dark_photo(self) -> _Draft:
        photo = self._next_source(for_gem=False)
        crop = self._crop(photo, self._aspect(), distinct=False)
        effect = Effect("dark", round(self.rng.uniform(0.025, 0.09), 4))
        recipe = self._photo_recipe(photo, crop, effect, grain=(3.0, 7.0))
        return _Draft(Category.photo, QualityLabel.dark, recipe, photo.event, "dark")

    def _screenshot(self, index: int, kinds: tuple[str, ...] = catalog.PAGE_KINDS) -> _Draft:
        rng = self.rng
        page = kinds[index % len(kinds)] if index < 2 * len(kinds) else rng.choice(kinds)
        names, weights = zip(*catalog.VIEWPORT_WEIGHTS.items(), strict=True)
        viewport = rng.choices(names, weights)[0]
        if index < len(kinds) and index % 3 == 0:
            viewport = "iphone13pro"  # the main phone's screen leads in every size
        doc_page = rng.choice(catalog.DOC_PAGES) if page == "docs" else None
        dark = page not in ("docs", "news") and rng.random() < 0.25
        recipe = ScreenRecipe(page, rng.randrange(2**31), viewport, dark, doc_page,
                              rng.randrange(64))
        event = "everyday"
        if page in ("map", "chat", "feed", "viewer") and rng.random() < 0.5:
            event = rng.choice(["lisbon", "hike", "florida"])
        return _Draft(Category.screenshot, QualityLabel.good, recipe, event, f"page:{page}")

    def _document(self, index: int) -> _Draft:
        rng = self.rng
        kind = catalog.DOCUMENT_KINDS[index % len(catalog.DOCUMENT_KINDS)]
        photographed = index % 3 != 2
        table = rng.choice(TABLE_PHOTOS).key if photographed else None
        recipe = DocumentRecipe(
            kind=kind, doc_seed=rng.randrange(2**31), photographed=photographed, table=table,
            tilt=round(rng.uniform(-9, 9) if photographed else rng.uniform(-0.8, 0.8), 2),
            fill=round(rng.uniform(0.55, 0.82), 3), warp=round(rng.uniform(0.02, 0.08), 3),
            long_side=rng.choice((2016, 1632)) if photographed else 1754,
            seed=rng.randrange(2**31),
        )
        event = "everyday"
        if kind == "receipt" and rng.random() < 0.6:
            event = rng.choice(["lisbon", "florida", "birthday"])
        how = "photographed" if photographed else "scan"
        return _Draft(Category.document, QualityLabel.good, recipe, event, f"{kind}:{how}")

    # --- devices, times, formats, names -----------------------------------------------------
    def _assign_devices(self, drafts: list[_Draft]) -> None:
        bursts: dict[str, str] = {}
        for d in drafts:
            if isinstance(d.recipe, ScreenRecipe):
                d.device = _screen_device(d.recipe.viewport)
            elif isinstance(d.recipe, DocumentRecipe):
                d.device = "iphone" if d.recipe.photographed else "scanner"
            elif d.burst_id:
                d.device = bursts.setdefault(d.burst_id, self._camera())
            else:
                d.device = self._camera()

    def _camera(self) -> str:
        return "pixel" if self.rng.random() < 0.2 else "iphone"

    def _assign_times(self, drafts: list[_Draft]) -> None:
        rng = self.rng
        by_event: dict[str, list[list[_Draft]]] = {}
        moments: dict[str, list[_Draft]] = {}
        for d in drafts:
            if d.burst_id:
                moments.setdefault(d.burst_id, []).append(d)
            else:
                by_event.setdefault(d.event, []).append([d])
        for frames in moments.values():
            by_event.setdefault(frames[0].event, []).append(sorted(frames, key=lambda f: f.frame))
        for event, groups in sorted(by_event.items()):
            rng.shuffle(groups)
            tz = _tz(catalog.EVENT_BY_KEY[event].utc_offset)
            first, days = catalog.EVENT_DAYS[event]
            if event == "everyday":
                for group in groups:
                    day = date.fromisoformat(first) + timedelta(days=rng.randrange(days))
                    at = datetime.combine(day, time(8), tz) + timedelta(
                        seconds=rng.randrange(15 * 3600))
                    _stamp(rng, group, at)
                continue
            per_day = -(-len(groups) // days)
            for n, group in enumerate(groups):
                day_index, slot = divmod(n, per_day)
                if slot == 0:
                    at = datetime.combine(date.fromisoformat(first), time(9), tz) + timedelta(
                        days=day_index, minutes=rng.randrange(120))
                else:
                    at += timedelta(minutes=rng.uniform(2, 540 / per_day))
                _stamp(rng, group, at)
        for d in drafts:
            info = catalog.EVENT_BY_KEY[d.event]
            if d.category is not Category.screenshot and info.gps and rng.random() < 0.85:
                d.gps = GpsPoint(lat=round(info.gps.lat + rng.uniform(-0.02, 0.02), 6),
                                 lon=round(info.gps.lon + rng.uniform(-0.02, 0.02), 6))

    def _assign_encodings(self, drafts: list[_Draft]) -> None:
        spec, rng = self.spec, self.rng
        singles = [d for d in drafts if d.variant == "good"]
        rng.shuffle(singles)
        singles.sort(key=lambda d: "grayscale_source" not in d.tags)
        specials: list[str] = (["grayscale"] * spec.grayscale + ["cmyk"] * spec.cmyk
                               + ["png16"] * spec.png16 + ["webp"] * spec.webp
                               + ["stripped"] * spec.stripped)
        portrait = [d for d in singles
                    if _is_portrait(d.recipe) and "grayscale_source" not in d.tags]
        for d in portrait[: spec.rotated]:
            d.tags.add("rotated")
        free = [d for d in singles if "rotated" not in d.tags]
        for d, special in zip(free, specials, strict=False):
            d.tags.add(special)
        iphone = [d for d in free if not d.tags & {*specials, "rotated"} and d.device == "iphone"]
        for d in iphone[: spec.heic]:
            d.tags.add("heic")
        screens = [d for d in drafts if isinstance(d.recipe, ScreenRecipe)]
        for d in rng.sample(screens, min(spec.jpeg_screenshots, len(screens))):
            d.tags.add("jpeg")
            d.device = "browser"
        for d in drafts:
            if d.category is Category.photo and d.variant != "good" and rng.random() < 0.08:
                d.tags.add("heic" if d.device == "iphone" else "rotated")
            d.encoding = self._encoding(d)

    def _encoding(self, d: _Draft) -> Encoding:
        rng = self.rng
        if isinstance(d.recipe, ScreenRecipe):
            if "jpeg" in d.tags:
                return Encoding(ImageFormat.jpeg, 90)
            return Encoding(ImageFormat.png, 0)
        if isinstance(d.recipe, DocumentRecipe) and not d.recipe.photographed:
            gray = d.recipe.doc_seed % 2 == 0
            if gray:
                return Encoding(ImageFormat.png, 0, "L")
            scanner = ExifSpec("Canon", "CanoScan LiDE 400", "Canon IJ Scan Utility", None, None,
                               None, None, None, None)
            return Encoding(ImageFormat.jpeg, 88, exif=scanner)
        exif = self._camera_exif(d)
        tags = d.tags
        if "stripped" in tags:
            d.device = "messenger"
            return Encoding(ImageFormat.jpeg, 80)
        if "grayscale" in tags:
            return Encoding(ImageFormat.jpeg, 90, "L", exif=exif)
        if "cmyk" in tags:
            return Encoding(ImageFormat.jpeg, 90, "CMYK", exif=exif)
        if "png16" in tags:
            return Encoding(ImageFormat.png, 0, "RGB16", exif=exif)
        if "webp" in tags:
            return Encoding(ImageFormat.webp, 85, exif=exif)
        if "heic" in tags:
            return Encoding(ImageFormat.heic, 80, exif=exif)
        orientation = 6 if "rotated" in tags else 1
        return Encoding(ImageFormat.jpeg, rng.choice((88, 90, 92)), orientation=orientation,
                        exif=exif)

    def _camera_exif(self, d: _Draft) -> ExifSpec:
        rng = self.rng
        device = catalog.PIXEL if d.device == "pixel" else catalog.IPHONE
        dark = d.quality is QualityLabel.dark
        iso = rng.choice((1600, 2500, 3200, 5000)) if dark else rng.choice((32, 50, 64, 100, 125))
        exposure = rng.choice((1 / 4, 1 / 8, 1 / 15)) if dark else rng.choice(
            (1 / 60, 1 / 120, 1 / 250, 1 / 500, 1 / 1000))
        return ExifSpec(device.make, device.model, device.software, device.lens, device.focal_mm,
                        iso, exposure, 1.5 if device is catalog.IPHONE else 1.85, d.gps)

    def _finalise(self, drafts: list[_Draft]) -> list[PlannedItem]:
        drafts.sort(key=lambda d: (d.captured_at, d.frame))
        names = _Namer(self.rng)
        items = []
        for n, d in enumerate(drafts, start=1):
            assert d.captured_at is not None and d.encoding is not None
            items.append(PlannedItem(
                id=f"s{n:04d}", file_name=names.name(d), category=d.category,
                quality=d.quality, burst_id=d.burst_id, is_best_shot=d.is_best_shot,
                event=d.event, captured_at=d.captured_at, recipe=d.recipe, encoding=d.encoding,
                variant=d.variant, device=d.device,
            ))
        return items


class _Namer:
    """File names as the devices write them (IMG_1234.HEIC, PXL_..., Screenshot ...)."""

    _EXT = {ImageFormat.jpeg: "JPG", ImageFormat.heic: "HEIC", ImageFormat.png: "PNG",
            ImageFormat.webp: "webp"}

    def __init__(self, rng: random.Random) -> None:
        self.counter = rng.randrange(1200, 7000)
        self.taken: set[str] = set()

    def name(self, d: _Draft) -> str:
        assert d.captured_at is not None and d.encoding is not None
        at, fmt = d.captured_at, d.encoding.format
        ext = self._EXT[fmt]
        if d.device in ("iphone", "ipad"):
            self.counter += 1
            base, ext = f"IMG_{self.counter:04d}", ext
        elif d.device == "pixel":
            base = f"PXL_{at:%Y%m%d_%H%M%S}{at.microsecond // 1000:03d}"
            ext = ext.lower()
        elif d.device == "android":
            base, ext = f"Screenshot_{at:%Y%m%d-%H%M%S}", ext.lower()
        elif d.device == "mac":
            base, ext = f"Screenshot {at:%Y-%m-%d at %H.%M.%S}", ext.lower()
        elif d.device == "scanner":
            base, ext = f"Scan {at:%Y-%m-%d %H.%M.%S}", ext.lower()
        elif d.device == "messenger":
            self.counter += 1
            base, ext = f"IMG-{at:%Y%m%d}-WA{self.counter % 10000:04d}", "jpg"
        else:  # a browser saving a screenshot as JPEG
            base, ext = f"Screenshot_{at:%Y%m%d-%H%M%S}_Chrome", "jpg"
        return unique_name(base, ext, self.taken)


# ---------------------------------------------------------------------------------------------
def choose_crop(rng: random.Random, photo: RealPhoto, aspect: float,
                avoid: list[Crop], *, attempts: int = 24) -> Crop:
    """A crop with the given aspect (width/height in pixels) that contains the subject's
    centre and overlaps the crops in `avoid` as little as possible."""
    width, height = photo.size
    sx0, sy0, sx1, sy1 = photo.subject
    min_scale = 0.8 if photo.megapixels < 0.5 else 0.5
    best: tuple[float, Crop] | None = None
    for _ in range(attempts):
        scale = rng.uniform(min_scale, 1.0)
        if width / height > aspect:
            ch = height * scale
            cw = ch * aspect
        else:
            cw = width * scale
            ch = cw / aspect
        fw, fh = cw / width, ch / height
        x0 = _place(rng, fw, sx0, sx1)
        y0 = _place(rng, fh, sy0, sy1)
        crop = Crop(round(x0, 4), round(y0, 4), round(x0 + fw, 4), round(y0 + fh, 4),
                    flip=rng.random() < 0.3)
        overlap = max((crop.iou(c) + (0.2 if c.flip == crop.flip else 0.0) for c in avoid),
                      default=0.0)
        if best is None or overlap < best[0]:
            best = (overlap, crop)
        if overlap < 0.3:
            break
    assert best is not None
    return best[1]


def _place(rng: random.Random, size: float, lo: float, hi: float) -> float:
    """Start of a window of `size` (fraction) in [0, 1] covering the middle of [lo, hi]."""
    centre = (lo + hi) / 2
    start_min = max(0.0, min(hi - size, centre - size * 0.75))
    start_max = min(1.0 - size, max(lo, centre - size * 0.25))
    if start_max < start_min:
        return max(0.0, min(1.0 - size, centre - size / 2))
    return rng.uniform(start_min, start_max)


def _jitter(rng: random.Random, crop: Crop) -> Crop:
    """A burst neighbour: the same framing, shifted and zoomed by a few percent."""
    w, h = crop.x1 - crop.x0, crop.y1 - crop.y0
    zoom = rng.uniform(0.96, 1.04)
    nw, nh = min(1.0, w * zoom), min(1.0, h * zoom)
    cx = (crop.x0 + crop.x1) / 2 + rng.uniform(-0.03, 0.03) * w
    cy = (crop.y0 + crop.y1) / 2 + rng.uniform(-0.03, 0.03) * h
    x0 = min(max(0.0, cx - nw / 2), 1.0 - nw)
    y0 = min(max(0.0, cy - nh / 2), 1.0 - nh)
    return replace(crop, x0=round(x0, 4), y0=round(y0, 4), x1=round(x0 + nw, 4),
                   y1=round(y0 + nh, 4))


def _capacity(photo: RealPhoto) -> int:
    """How many distinct good photos one source may give (small sources give fewer)."""
    return max(2, min(10, round(photo.megapixels * 2.5)))


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _is_portrait(recipe: Recipe) -> bool:
    if not isinstance(recipe, PhotoRecipe):
        return False
    photo = catalog.PHOTO_BY_KEY[recipe.source]
    c = recipe.crop
    return (c.x1 - c.x0) * photo.size[0] < (c.y1 - c.y0) * photo.size[1]


def _screen_device(viewport: str) -> str:
    return {"iphone13pro": "iphone", "iphone15": "iphone", "iphone13promax": "iphone",
            "pixel7": "android", "ipad": "ipad", "macbook": "mac", "desktop": "mac"}[viewport]


def _tz(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _stamp(rng: random.Random, group: list[_Draft], at: datetime) -> None:
    """Capture times: one moment, or a burst's frames a fraction of a second apart."""
    at = at.replace(microsecond=rng.randrange(1000) * 1000)
    for d in group:
        d.captured_at = at
        at += timedelta(milliseconds=rng.randrange(250, 700))
