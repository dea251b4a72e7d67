"""How each holdout item is stored (format, EXIF, orientation, ICC) and named."""

from __future__ import annotations

import random
from collections import Counter

from ..manifest import Category, QualityLabel
from ..parallel import unique_name
from ..plan import ExifSpec
from .drafts import Draft
from .recipes import Encoding, PaperRecipe, PhotoRecipe, PlannedItem, ScreenRecipe
from .sources import PHONE_BY_NAMES

# Formats spread over the good single photos (each also a slice of the report).
GOOD_FORMATS = (["avif"] * 6 + [f"heic{o}" for o in range(1, 9)] + ["png16"] * 3
                + ["cmyk"] * 3 + ["icc:display_p3"] * 3 + ["icc:adobe_rgb"] * 3
                + [f"jpeg{o}" for o in (2, 3, 5, 6, 7, 8)] + ["no_exif"] * 14)


def assign_encodings(rng: random.Random, drafts: list[Draft]) -> None:
    photos = [d for d in drafts if d.category is Category.photo]
    for d in photos:
        if d.device not in PHONE_BY_NAMES:
            d.device = rng.choices(("samsung", "iphone", "pixel"), (4, 4, 2))[0]
    bursts: dict[str, str] = {}
    for d in photos:
        if d.burst_id:
            d.device = bursts.setdefault(d.burst_id, d.device)
    singles = [d for d in photos if isinstance(d.recipe, PhotoRecipe) and not d.burst_id
               and d.quality is QualityLabel.good and not d.recipe.delivered
               and d.recipe.look != "bw" and "bw" not in d.slices]
    rng.shuffle(singles)
    for d, fmt in zip(singles, GOOD_FORMATS, strict=False):
        d.tags.add(fmt)
    for d in photos:
        if d.quality is not QualityLabel.good and not d.tags and rng.random() < 0.2:
            d.tags.add(rng.choice(("heic1", "heic6", "avif", "jpeg6", "no_exif")))
    for d in drafts:
        d.encoding = _encoding(rng, d)
        d.slices |= _format_slices(d)


def _encoding(rng: random.Random, d: Draft) -> Encoding:
    recipe = d.recipe
    if isinstance(recipe, ScreenRecipe):
        if d.device == "samsung":
            return Encoding("jpeg", 95, subsampling="4:4:4")
        return Encoding("png")
    if isinstance(recipe, PaperRecipe) and recipe.presentation == "scan":
        if recipe.seed % 2:
            return Encoding("png", mode="L")
        scanner = ExifSpec("EPSON", "ET-2850 Series", "Epson Scan 2", None, None, None, None,
                           None, None)
        return Encoding("jpeg", 85, exif=scanner)
    if isinstance(recipe, PhotoRecipe) and recipe.delivered:
        d.device = rng.choice(("whatsapp", "telegram", "signal"))
        return Encoding("jpeg", rng.choice((70, 75, 78)))
    exif = _camera_exif(rng, d)
    tag = next(iter(d.tags), "")
    mono = isinstance(recipe, PhotoRecipe) and (recipe.look == "bw" or "bw" in d.slices)
    if tag == "no_exif":
        d.device = rng.choice(("download", "facebook", "edited"))
        return Encoding("jpeg", rng.choice((82, 90, 95)))
    if tag == "avif":
        return Encoding("avif", rng.choice((60, 70, 80)), exif=exif if rng.random() < 0.5
                        else None)
    if tag.startswith("heic"):
        d.device = "iphone"
        return Encoding("heic", 80, orientation=int(tag[4:]),
                        exif=_camera_exif(rng, d))
    if tag == "png16":
        return Encoding("png16", exif=exif)
    if tag == "cmyk":
        return Encoding("jpeg", 92, mode="CMYK", exif=exif)
    if tag.startswith("icc:"):
        return Encoding("jpeg", 92, exif=exif, icc=tag[4:])
    if tag.startswith("jpeg"):
        return Encoding("jpeg", 90, orientation=int(tag[4:]), exif=exif)
    return Encoding("jpeg", rng.choice((85, 90, 95)), mode="L" if mono and rng.random() < 0.5
                    else "RGB", exif=exif)


def _camera_exif(rng: random.Random, d: Draft) -> ExifSpec:
    phone = PHONE_BY_NAMES.get(d.device, PHONE_BY_NAMES["samsung"])
    recipe = d.recipe
    iso = getattr(recipe, "iso", 100)
    slow = isinstance(recipe, PhotoRecipe) and (
        (recipe.blur is not None and recipe.blur.kind in ("motion", "shake"))
        or recipe.look in ("night", "dark"))
    exposure = rng.choice((1 / 4, 1 / 8, 1 / 10, 1 / 15, 1 / 20)) if slow else rng.choice(
        (1 / 60, 1 / 100, 1 / 120, 1 / 250, 1 / 500, 1 / 1000, 1 / 2000))
    return ExifSpec(phone.make, phone.model, phone.software, phone.lens, phone.focal_mm,
                    iso, exposure, phone.f_number, d.gps)


def _format_slices(d: Draft) -> set[str]:
    enc = d.encoding
    assert enc is not None
    out: set[str] = set()
    if enc.format in ("avif", "heic", "png16"):
        out.add(enc.format)
    if enc.mode == "CMYK":
        out.add("cmyk")
    if enc.icc:
        out |= {"icc", f"icc_{enc.icc}"}
    if enc.orientation != 1:
        out.add("rotated")
    if enc.format == "heic":
        out.add(f"heic_orientation_{enc.orientation}")
    if d.category is Category.photo and (enc.exif is None):
        out.add("no_exif")
    return out


def finalise(rng: random.Random, drafts: list[Draft]) -> list[PlannedItem]:
    drafts.sort(key=lambda d: (d.captured_at, d.frame))
    names = _Namer(rng)
    items = []
    for n, d in enumerate(drafts, start=1):
        assert d.captured_at is not None and d.encoding is not None
        enc = d.encoding
        if enc.exif is not None and enc.exif.gps is None and d.gps is not None and (
                enc.exif.exposure_s is not None):
            enc = Encoding(enc.format, enc.quality, enc.orientation,
                           _with_gps(enc.exif, d), enc.mode, enc.icc, enc.subsampling)
        items.append(PlannedItem(
            id=f"h{n:04d}", file_name=names.name(d, enc), category=d.category,
            quality=d.quality, burst_id=d.burst_id, is_best_shot=d.is_best_shot,
            event=d.event, captured_at=d.captured_at, recipe=d.recipe, encoding=enc,
            variant=d.variant, device=d.device, slices=tuple(sorted(d.slices))))
    return items


def _with_gps(exif: ExifSpec, d: Draft) -> ExifSpec:
    return ExifSpec(exif.make, exif.model, exif.software, exif.lens, exif.focal_mm, exif.iso,
                    exif.exposure_s, exif.f_number, d.gps)


class _Namer:
    """File names as each device or app writes them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = rng.randrange(2000, 8000)
        self.wa = Counter[str]()
        self.taken: set[str] = set()

    def name(self, d: Draft, enc: Encoding) -> str:
        at = d.captured_at
        assert at is not None
        ext = {"jpeg": "jpg", "heic": "heic", "avif": "avif", "png": "png", "png16": "png"}[
            enc.format]
        screen = d.category is Category.screenshot
        device = d.device
        if device in ("iphone", "ipad"):
            self.counter += 1
            base, ext = f"IMG_{self.counter:04d}", ext.upper()
        elif device == "samsung":
            base = (f"Screenshot_{at:%Y%m%d_%H%M%S}_Chrome" if screen
                    else f"{at:%Y%m%d_%H%M%S}")
        elif device == "pixel":
            base = (f"Screenshot_{at:%Y%m%d-%H%M%S}" if screen
                    else f"PXL_{at:%Y%m%d_%H%M%S}{at.microsecond // 1000:03d}")
        elif device == "mac":
            base = f"Screenshot {at:%Y-%m-%d at %H.%M.%S}"
        elif device == "linux":
            base = f"Screenshot from {at:%Y-%m-%d %H-%M-%S}"
        elif device == "scanner":
            base = f"scan_{at:%Y%m%d_%H%M%S}"
        elif device == "whatsapp":
            day = f"{at:%Y%m%d}"
            self.wa[day] += 1
            base = f"IMG-{day}-WA{self.wa[day] - 1:04d}"
        elif device == "telegram":
            base = f"photo_{at:%Y-%m-%d_%H-%M-%S}"
        elif device == "signal":
            base, ext = f"signal-{at:%Y-%m-%d-%H%M%S}", "jpeg"
        elif device == "facebook":
            base = f"FB_IMG_{int(at.timestamp() * 1000)}"
        elif device == "edited":
            base = f"{at:%Y%m%d_%H%M%S}_edit"
        else:  # a download
            base = f"image-{self.rng.randrange(10**5, 10**6)}"
        return unique_name(base, ext, self.taken)
