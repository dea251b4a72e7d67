"""What each holdout item is made of: frozen recipes, encodings and the planned item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..manifest import Category, JunkReason, QualityLabel, is_expected_gem, junk_reason
from ..plan import ExifSpec
from .sources import Box

BlurKind = Literal["motion", "shake", "defocus"]
Look = Literal["as_shot", "bw", "fog", "bokeh", "low_key", "night", "dark"]
FileFormat = Literal["jpeg", "heic", "avif", "png", "png16"]


@dataclass(frozen=True)
class Frame:
    """A window of a source photo (fractions), at the source's own pixel density."""

    source: str
    box: Box
    flip: bool = False

    def describe(self) -> str:
        x0, y0, x1, y1 = self.box
        return f"{self.source} crop({x0:.3f},{y0:.3f},{x1:.3f},{y1:.3f})" + (
            " mirrored" if self.flip else "")


@dataclass(frozen=True)
class Blur:
    """A point-spread function; `px` is its size in pixels of the frame (length of a
    motion, extent of a shake, diameter of a defocus disk), as a crop of a 12 MP capture
    at full resolution carries it: the 2-20 px the issue names are visible in the file."""

    kind: BlurKind
    px: float
    angle: float = 0.0

    def describe(self) -> str:
        what = {"motion": "line", "shake": "random-walk", "defocus": "pillbox"}[self.kind]
        angle = f" at {self.angle:.0f} deg" if self.kind == "motion" else ""
        return f"{what} psf {self.px:.1f}px{angle}"


@dataclass(frozen=True)
class PhotoRecipe:
    frame: Frame
    look: Look = "as_shot"
    amount: float = 0.0  # fog density, bokeh px@4000, low-key EV, night EV, dark target luma
    blur: Blur | None = None
    ev: float = 0.0  # exposure change (burst frames)
    iso: int = 100
    seed: int = 0
    delivered: int = 0  # long side after a chat app re-encoded it (0: as captured)
    mix: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)  # black-and-white filter

    def describe(self) -> str:
        parts = [self.frame.describe()]
        if self.look != "as_shot":
            parts.append(f"{self.look}({self.amount:g})")
        if self.ev:
            parts.append(f"ev{self.ev:+.2f}")
        if self.blur:
            parts.append(self.blur.describe())
        parts.append(f"sensor noise iso{self.iso}, phone sharpening")
        if self.delivered:
            parts.append(f"chat app: long side {self.delivered}, EXIF stripped")
        return "; ".join(parts)


@dataclass(frozen=True)
class ScreenRecipe:
    page: str  # docs, feed, viewer, article, chat, market
    seed: int
    viewport: str
    dark: bool
    photos: tuple[str, ...] = ()  # holdout photo keys the page shows
    doc_page: str | None = None
    anchor: int = 0

    def describe(self) -> str:
        shown = f" showing {','.join(self.photos)}" if self.photos else ""
        doc = f" {self.doc_page}#{self.anchor}" if self.doc_page else ""
        return (f"chromium screenshot page={self.page}{doc} seed={self.seed} "
                f"{'dark' if self.dark else 'light'} {self.viewport}{shown}")


@dataclass(frozen=True)
class PaperRecipe:
    kind: str  # receipt, page, bill, ticket, newspaper (real photo)
    seed: int
    presentation: Literal["table", "scan", "real"]
    table: str | None = None  # holdout photo key under the paper
    long_side: int = 3264

    def describe(self) -> str:
        where = f" on {self.table}" if self.table else ""
        return f"{self.kind} seed={self.seed} {self.presentation}{where} long={self.long_side}"


@dataclass(frozen=True)
class ScreenPhotoRecipe:
    """A phone photo of a display showing a photo: pixel grid, moire, glare, perspective."""

    content: str  # holdout photo key on the display
    display: Literal["monitor", "tv", "laptop"]
    room: str  # holdout photo key around the display
    seed: int
    long_side: int = 3264

    def describe(self) -> str:
        return (f"photo of a {self.display} showing {self.content} in front of {self.room}: "
                f"subpixel grid, moire, glare, perspective, long={self.long_side}")


Recipe = PhotoRecipe | ScreenRecipe | PaperRecipe | ScreenPhotoRecipe


@dataclass(frozen=True)
class Encoding:
    format: FileFormat
    quality: int = 90
    orientation: int = 1
    exif: ExifSpec | None = None
    mode: Literal["RGB", "L", "CMYK"] = "RGB"
    icc: str | None = None  # display_p3, adobe_rgb
    subsampling: str = "4:2:0"


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
    device: str
    slices: tuple[str, ...]

    @property
    def expected_gem(self) -> bool:
        return is_expected_gem(self.category, self.quality, self.is_best_shot)

    @property
    def junk_reason(self) -> JunkReason | None:
        return junk_reason(self.category, self.quality, self.is_best_shot)
