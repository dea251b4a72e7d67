"""The holdout roll's real material: static facts, no I/O.

Nothing here is used by the training roll (`samples.catalog`): no photo file, no package, no
HTML page and no text. `check_disjoint()` proves it against the catalog (a unit test runs it).
Photos come from Debian packages (wallpapers, OpenCV's example data, a login theme) and from
PyPI sdists and wheels (face-recognition, insightface, mahotas and piexif test photos, imgaug's
and ultralytics' sample photos). The subject box (fractions of width and height) marks what a
good crop must keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..catalog import (
    DEBIAN_PHOTO_PACKAGES,
    DEBIAN_SCREEN_PACKAGES,
    DOC_PAGES,
    PHOTOS,
    TABLE_PHOTOS,
    Viewport,
)
from ..manifest import EventInfo, GpsPoint

Box = tuple[float, float, float, float]
FULL: Box = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Origin:
    """A package the material ships in: a Debian .deb, or a pinned PyPI sdist or wheel."""

    kind: Literal["debian", "pypi"]
    package: str
    version: str | None = None  # PyPI only (pinned)
    archive: Literal["deb", "sdist", "wheel"] = "deb"


PLASMA = Origin("debian", "plasma-workspace-wallpapers")
LOMIRI20 = Origin("debian", "lomiri-wallpapers-20.04")
MALDIVES = Origin("debian", "sddm-theme-maldives")
OPENCV = Origin("debian", "opencv-doc")
PYDOC = Origin("debian", "python3.11-doc")
DEVREF = Origin("debian", "developers-reference")
FAQ = Origin("debian", "debian-faq")
FACE_RECOGNITION = Origin("pypi", "face_recognition", "1.3.0", "sdist")
INSIGHTFACE = Origin("pypi", "insightface", "2.1", "sdist")
MAHOTAS = Origin("pypi", "mahotas", "1.4.19", "sdist")
PIEXIF = Origin("pypi", "piexif", "1.1.3", "sdist")
IMGAUG = Origin("pypi", "imgaug", "0.4.0", "wheel")
ULTRALYTICS = Origin("pypi", "ultralytics", "8.4.190", "wheel")


@dataclass(frozen=True)
class HoldoutPhoto:
    key: str
    origin: Origin
    path: str  # absolute for Debian files, inside the archive for PyPI ones
    size: tuple[int, int]  # pixels of the shipped file
    subject: Box = FULL
    tags: frozenset[str] = frozenset()  # bw night fog macro_bokeh portrait real_blur table
    author: str | None = None

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6

    @property
    def long_side(self) -> int:
        return max(self.size)


def _t(*tags: str) -> frozenset[str]:
    return frozenset(tags)


_KDE = "/usr/share/wallpapers/{}/contents/images/2560x1600.jpg"
_CV = "/usr/share/doc/opencv-doc/examples/"
_FR = "face_recognition-1.3.0/tests/test_images/"


def _kde(key: str, name: str, subject: Box = FULL, tags: frozenset[str] = frozenset()
         ) -> HoldoutPhoto:
    return HoldoutPhoto(key, PLASMA, _KDE.format(name), (2560, 1600), subject, tags)


PHOTOS_HOLDOUT: tuple[HoldoutPhoto, ...] = (
    # Debian plasma-workspace-wallpapers: real photographs (the others there are renders).
    _kde("jetty", "BytheWater", FULL, _t("table")),
    _kde("fog_pier", "ColdRipple", (0.15, 0.45, 0.85, 1.0), _t("fog", "bw")),
    _kde("cups", "ColorfulCups"),
    _kde("blue_hour", "DarkestHour", FULL, _t("night", "fog")),
    _kde("boats", "EveningGlow", (0.0, 0.35, 1.0, 1.0), _t("night")),
    _kde("maple_leaf", "FallenLeaf", (0.45, 0.25, 0.9, 0.9), _t("macro_bokeh")),
    _kde("facade", "Grey", FULL, _t("bw")),
    _kde("seedlings", "OneStandsOut", (0.5, 0.3, 0.85, 0.65)),
    _kde("forest_path", "Path", (0.3, 0.3, 0.7, 1.0)),
    _kde("dusk_lake", "summer_1am", FULL, _t("night")),
    # Debian lomiri-wallpapers-20.04: a 20-megapixel photo, sharp bird on a blurred background.
    HoldoutPhoto("nuthatch", LOMIRI20, "/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
                 (6028, 3391), (0.36, 0.3, 0.56, 0.7), _t("macro_bokeh"), "Lukas Baubkus"),
    # Debian sddm-theme-maldives: a camera JPEG (Samsung Digimax, EXIF kept in the package).
    HoldoutPhoto("island_pier", MALDIVES, "/usr/share/sddm/themes/maldives/background.jpg",
                 (2592, 1754), (0.2, 0.35, 0.8, 0.95)),
    # Debian opencv-doc: OpenCV's example photos.
    HoldoutPhoto("old_street", OPENCV, _CV + "data/leuvenA.jpg", (751, 563)),
    HoldoutPhoto("aloe", OPENCV, _CV + "data/aloeL.jpg", (1282, 1110), (0.1, 0.1, 0.9, 0.95)),
    HoldoutPhoto("hotel", OPENCV, _CV + "data/building.jpg", (868, 600)),
    HoldoutPhoto("fruit", OPENCV, _CV + "data/fruits.jpg", (512, 480)),
    HoldoutPhoto("kick", OPENCV, _CV + "data/messi5.jpg", (548, 342), (0.2, 0.1, 0.65, 0.95)),
    HoldoutPhoto("squirrel", OPENCV, _CV + "data/squirrel_cls.jpg", (535, 426),
                 (0.25, 0.25, 0.8, 0.85), _t("macro_bokeh")),
    HoldoutPhoto("butterfly", OPENCV, _CV + "data/butterfly.jpg", (493, 356),
                 (0.05, 0.1, 0.95, 0.9), _t("macro_bokeh")),
    HoldoutPhoto("circuit", OPENCV, _CV + "data/board.jpg", (640, 480)),
    HoldoutPhoto("aerial", OPENCV, _CV + "data/aero1.jpg", (640, 480)),
    HoldoutPhoto("notebook", OPENCV, _CV + "data/ela_original.jpg", (902, 770), FULL,
                 _t("table")),
    HoldoutPhoto("palace", OPENCV, _CV + "data/home.jpg", (512, 384), (0.1, 0.2, 0.9, 1.0)),
    HoldoutPhoto("desk", OPENCV, _CV + "data/stuff.jpg", (640, 480), FULL, _t("table")),
    HoldoutPhoto("car_motion", OPENCV, _CV + "data/licenseplate_motion.jpg", (600, 482), FULL,
                 _t("real_blur")),
    HoldoutPhoto("dog", OPENCV, _CV + "data/chicky_512.png", (512, 512), (0.1, 0.05, 0.85, 0.85)),
    HoldoutPhoto("corridor", OPENCV, _CV + "data/basketball1.png", (640, 480), FULL, _t("bw")),
    HoldoutPhoto("graffiti", OPENCV, _CV + "data/graf1.png", (800, 640)),
    HoldoutPhoto("sweets", OPENCV, _CV + "data/smarties.png", (413, 356)),
    HoldoutPhoto("groceries", OPENCV, _CV + "data/box_in_scene.png", (512, 384), FULL, _t("bw")),
    HoldoutPhoto("potted_plant", OPENCV, _CV + "alphamat/input_images/plant.jpg", (500, 333),
                 (0.35, 0.0, 1.0, 0.8)),
    HoldoutPhoto("parking_sign", OPENCV, _CV + "text/scenetext01.jpg", (800, 600)),
    HoldoutPhoto("night_sign", OPENCV, _CV + "text/scenetext02.jpg", (1280, 960), FULL,
                 _t("night")),
    HoldoutPhoto("barrier", OPENCV, _CV + "text/scenetext05.jpg", (1280, 960)),
    # PyPI face_recognition 1.3.0 sdist: portraits (official photographs).
    HoldoutPhoto("portrait_biden", FACE_RECOGNITION, _FR + "biden.jpg", (970, 2204),
                 (0.1, 0.0, 0.9, 0.6), _t("portrait")),
    HoldoutPhoto("portrait_obama", FACE_RECOGNITION, _FR + "obama.jpg", (910, 1137),
                 (0.2, 0.0, 0.8, 0.6), _t("portrait")),
    HoldoutPhoto("speech", FACE_RECOGNITION, _FR + "obama2.jpg", (626, 1200),
                 (0.1, 0.05, 0.9, 0.6), _t("portrait")),
    HoldoutPhoto("oval_office", FACE_RECOGNITION, _FR + "obama3.jpg", (1434, 2333),
                 (0.2, 0.05, 0.8, 0.6), _t("portrait")),
    # Other PyPI archives.
    HoldoutPhoto("quokka", IMGAUG, "imgaug/quokka.jpg", (960, 643), (0.25, 0.05, 0.75, 1.0)),
    HoldoutPhoto("card_game", INSIGHTFACE, "insightface-2.1/insightface/data/images/t1.jpg",
                 (1280, 886)),
    HoldoutPhoto("bus_stop", ULTRALYTICS, "ultralytics/assets/bus.jpg", (810, 1080)),
    HoldoutPhoto("coaches", ULTRALYTICS, "ultralytics/assets/zidane.jpg", (1280, 720),
                 (0.2, 0.15, 0.95, 1.0), _t("portrait")),
    HoldoutPhoto("church_street", PIEXIF, "piexif-1.1.3/tests/images/large.jpg", (500, 667)),
    HoldoutPhoto("dome", PIEXIF, "piexif-1.1.3/tests/images/L01.jpg", (300, 400)),
    HoldoutPhoto("cathedral", PIEXIF, "piexif-1.1.3/tests/images/L02.jpg", (300, 400)),
    HoldoutPhoto("face_closeup", MAHOTAS, "mahotas-1.4.19/mahotas/demos/data/luispedro.jpg",
                 (300, 377), (0.1, 0.0, 0.9, 1.0), _t("portrait")),
)
PHOTO_BY_KEY = {p.key: p for p in PHOTOS_HOLDOUT}

# A real photo of a document (a newspaper's sudoku), labelled document.
NEWSPAPER = HoldoutPhoto("newspaper", OPENCV, _CV + "data/sudoku.png", (558, 563))
# The trimap OpenCV ships with plant.jpg: the real subject mask for a bokeh background.
PLANT_TRIMAP = _CV + "alphamat/trimaps/plant.png"

# Real HTML pages rendered as "browser" screenshots (scrolled to one of their sections).
_PY = "/usr/share/doc/python3.11/html/"
_DR = "/usr/share/developers-reference/"
_FQ = "/usr/share/doc/debian/FAQ/"
DOC_PAGES_HOLDOUT: tuple[tuple[Origin, str], ...] = (
    *((PYDOC, _PY + p) for p in (
        "library/json.html", "library/pathlib.html", "library/datetime.html",
        "library/itertools.html", "library/collections.html", "library/sqlite3.html",
        "tutorial/controlflow.html", "tutorial/datastructures.html", "tutorial/errors.html",
        "tutorial/classes.html")),
    *((DEVREF, _DR + p) for p in ("pkgs.html", "best-pkging-practices.html", "tools.html",
                                   "resources.html")),
    *((FAQ, _FQ + p) for p in ("basic-defs.en.html", "pkg-basics.en.html",
                               "customizing.en.html")),
)
# Files the pages need besides themselves (style sheets, scripts, images): whole folders.
DOC_ASSET_DIRS: dict[str, tuple[str, ...]] = {
    "python3.11-doc": (_PY + "_static/",),
    "developers-reference": (_DR + "_static/",),
    "debian-faq": (_FQ,),
}

# Real text printed on the photographed pages (Debian's base-files: on every Debian machine).
PAGE_TEXTS = ("/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/MPL-2.0",
              "/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/LGPL-2.1")


@dataclass(frozen=True)
class Phone:
    make: str
    model: str
    software: str
    lens: str
    focal_mm: float
    f_number: float
    names: Literal["samsung", "iphone", "pixel"]


# Phones that training's EXIF never names (it uses an iPhone 13 Pro and a Pixel 7).
PHONES: tuple[Phone, ...] = (
    Phone("samsung", "SM-S911B", "S911BXXS3BWK5", "Samsung Galaxy S23 Rear Camera", 5.4, 1.8,
          "samsung"),
    Phone("Apple", "iPhone 15 Pro", "17.6.1", "iPhone 15 Pro back triple camera 6.765mm f/1.78",
          6.77, 1.78, "iphone"),
    Phone("Google", "Pixel 8a", "HDR+ 1.0.641377693zd", "Pixel 8a back camera 4.38mm f/1.89",
          4.38, 1.89, "pixel"),
)
PHONE_BY_NAMES = {p.names: p for p in PHONES}

# Screens that training's screenshots never use.
VIEWPORTS_HOLDOUT: tuple[Viewport, ...] = (
    Viewport("galaxy_s23", 360, 780, 3.0, True),  # 1080x2340
    Viewport("iphone15promax", 430, 932, 3.0, True),  # 1290x2796
    Viewport("iphone_se", 375, 667, 2.0, True),  # 750x1334
    Viewport("pixel8a", 412, 916, 2.5, True),  # 1030x2290
    Viewport("ipad_air", 820, 1180, 2.0, False),  # 1640x2360
    Viewport("laptop", 1366, 768, 1.0, False),  # 1366x768
    Viewport("macbook_air", 1470, 956, 2.0, False),  # 2940x1912
    Viewport("monitor_qhd", 2560, 1440, 1.0, False),  # 2560x1440
)
VIEWPORT_BY_NAME = {v.name: v for v in VIEWPORTS_HOLDOUT}
SCREEN_DEVICE = {"galaxy_s23": "samsung", "iphone15promax": "iphone", "iphone_se": "iphone",
                 "pixel8a": "pixel", "ipad_air": "ipad", "laptop": "linux",
                 "macbook_air": "mac", "monitor_qhd": "linux"}

EVENTS_HOLDOUT: tuple[EventInfo, ...] = (
    EventInfo(key="islands", title="Island holiday", place="Malé, Maldives", utc_offset="+05:00",
              gps=GpsPoint(lat=4.1755, lon=73.5093)),
    EventInfo(key="old_town", title="Old towns by train", place="Leuven, Belgium",
              utc_offset="+02:00", gps=GpsPoint(lat=50.8798, lon=4.7005)),
    EventInfo(key="lakes", title="Lake district week", place="Keswick, United Kingdom",
              utc_offset="+01:00", gps=GpsPoint(lat=54.6013, lon=-3.1347)),
    EventInfo(key="family", title="Family weekend", place="Utrecht, Netherlands",
              utc_offset="+02:00", gps=GpsPoint(lat=52.0907, lon=5.1214)),
    EventInfo(key="daily", title="Everyday life", place="Utrecht, Netherlands",
              utc_offset="+01:00", gps=None),
)
EVENT_DAYS_HOLDOUT: dict[str, tuple[str, int]] = {
    "islands": ("2025-02-08", 6), "old_town": ("2025-04-18", 4), "lakes": ("2025-08-02", 7),
    "family": ("2025-10-11", 2), "daily": ("2025-01-06", 330),
}

# Debian packages that the holdout material comes from (extracted into the cache, not
# installed), and the PyPI archives (downloaded with pip, no install).
DEBIAN_PACKAGES = ("plasma-workspace-wallpapers", "lomiri-wallpapers-20.04",
                   "sddm-theme-maldives", "opencv-doc", "python3.11-doc",
                   "developers-reference", "debian-faq")


def check_disjoint() -> list[str]:
    """What the holdout shares with the training catalog (must be nothing)."""
    problems = []
    training_files = {p.path for p in PHOTOS + TABLE_PHOTOS}
    training_debs = set(DEBIAN_PHOTO_PACKAGES) | set(DEBIAN_SCREEN_PACKAGES)
    training_pypi = {p.package for p in PHOTOS + TABLE_PHOTOS if p.kind == "python"}
    for photo in (*PHOTOS_HOLDOUT, NEWSPAPER):
        if photo.path in training_files or any(photo.path.endswith("/" + f)
                                               for f in training_files):
            problems.append(f"{photo.key}: {photo.path} is a training photo")
        if photo.origin.kind == "debian" and photo.origin.package in training_debs:
            problems.append(f"{photo.key}: package {photo.origin.package} trains")
        if photo.origin.kind == "pypi" and photo.origin.package in training_pypi:
            problems.append(f"{photo.key}: package {photo.origin.package} trains")
    for _, page in DOC_PAGES_HOLDOUT:
        if page in DOC_PAGES:
            problems.append(f"{page} is a training page")
    return problems
