"""The real material the sample camera roll is made from: static facts, no I/O.

Every photograph here is a real photo shipped inside a Python wheel or a Debian package. The
subject box (fractions of width and height) marks the part that is in focus and worth keeping,
so that crops meant to be good photos contain it (several sources have large bokeh areas).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .manifest import EventInfo, GpsPoint

Box = tuple[float, float, float, float]
PackageKind = Literal["python", "debian"]


@dataclass(frozen=True)
class RealPhoto:
    key: str
    package: str
    kind: PackageKind
    path: str  # inside the Python package directory, or absolute for Debian files
    size: tuple[int, int]  # pixels (width, height) of the shipped file
    subject: Box
    event: str
    author: str | None = None
    grayscale: bool = False

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6


_LOMIRI = "/usr/share/backgrounds"
_MATE = "/usr/share/backgrounds/mate/nature"

PHOTOS: tuple[RealPhoto, ...] = (
    # scikit-image ships these in its wheel (skimage/data), no download needed.
    RealPhoto("astronaut", "scikit-image", "python", "data/astronaut.png", (512, 512),
              (0.25, 0.0, 0.8, 0.6), "birthday", "NASA"),
    RealPhoto("chelsea", "scikit-image", "python", "data/chelsea.png", (451, 300),
              (0.2, 0.1, 0.85, 0.9), "garden", "Stefan van der Walt"),
    RealPhoto("coffee", "scikit-image", "python", "data/coffee.png", (600, 400),
              (0.25, 0.0, 0.75, 0.95), "lisbon", "Rachel Michetti"),
    RealPhoto("rocket", "scikit-image", "python", "data/rocket.jpg", (640, 427),
              (0.42, 0.2, 0.62, 1.0), "florida", "SpaceX"),
    RealPhoto("motorcycle", "scikit-image", "python", "data/motorcycle_left.png", (741, 500),
              (0.05, 0.3, 0.95, 0.95), "lisbon", "Middlebury stereo dataset"),
    RealPhoto("cameraman", "scikit-image", "python", "data/camera.png", (512, 512),
              (0.1, 0.1, 0.75, 0.95), "birthday", grayscale=True),
    # scikit-learn: sklearn/datasets/images
    RealPhoto("china", "scikit-learn", "python", "datasets/images/china.jpg", (640, 427),
              (0.1, 0.05, 0.55, 1.0), "lisbon"),
    RealPhoto("dahlia", "scikit-learn", "python", "datasets/images/flower.jpg", (640, 427),
              (0.3, 0.15, 0.75, 0.8), "garden"),
    # matplotlib: mpl-data/sample_data
    RealPhoto("grace_hopper", "matplotlib", "python", "mpl-data/sample_data/grace_hopper.jpg",
              (512, 600), (0.2, 0.05, 0.85, 0.7), "birthday", "US Navy"),
    # Debian lomiri-wallpapers-16.04 (Ubuntu wallpaper contest photographs)
    RealPhoto("bridge", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Bridge_by_Sander_Klootwijk.jpg", (4352, 2448),
              (0.3, 0.1, 0.9, 0.9), "lisbon", "Sander Klootwijk"),
    RealPhoto("dragonfly", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Dragonfly_by_Bolly.jpg", (4224, 3168),
              (0.35, 0.2, 0.75, 0.75), "hike", "Bolly"),
    RealPhoto("fig", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Picture_0B_by_freespace.jpg", (2572, 1740),
              (0.3, 0.15, 0.85, 0.95), "lisbon", "freespace"),
    RealPhoto("brushes", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Picture_1A_by_freespace.jpg", (1365, 1074),
              (0.0, 0.0, 0.8, 1.0), "lisbon", "freespace"),
    RealPhoto("wine", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Wine_by_Jakkub_Mede.jpg", (2560, 3837),
              (0.1, 0.05, 0.95, 0.85), "birthday", "Jakkub Mede"),
    RealPhoto("aitzgorri", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/aitzgorri_by_Aitzol_Berasategi.jpg", (3088, 2056),
              (0.0, 0.1, 1.0, 0.8), "hike", "Aitzol Berasategi"),
    RealPhoto("lamp_bird", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/free_by_Peter_Nerlich.jpg", (2880, 2160),
              (0.15, 0.4, 0.7, 0.85), "lisbon", "Peter Nerlich"),
    RealPhoto("dogs", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/friends_by_Aitzol_Berasategi.jpg", (2056, 3088),
              (0.15, 0.08, 0.9, 0.62), "birthday", "Aitzol Berasategi"),
    RealPhoto("clock", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/greentock_by_Peter_Nerlich.jpg", (2880, 2160),
              (0.2, 0.1, 0.95, 0.9), "birthday", "Peter Nerlich"),
    RealPhoto("creek", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/life_by_Aitzol_Berasategi.jpg", (3088, 2056),
              (0.0, 0.0, 1.0, 1.0), "hike", "Aitzol Berasategi"),
    RealPhoto("picos", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/picosdeeuropa_by_Aitzol_Berasategi.jpg", (3264, 2448),
              (0.0, 0.0, 1.0, 0.9), "hike", "Aitzol Berasategi"),
    RealPhoto("dandelions", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/seeding_by_Clements_Engelhardt.jpg", (5312, 2988),
              (0.05, 0.2, 0.65, 0.9), "garden", "Clements Engelhardt"),
    RealPhoto("sunset", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/sunset_by_Aitzol_Berasategi.jpg", (4272, 2848),
              (0.1, 0.2, 0.9, 0.9), "hike", "Aitzol Berasategi"),
    # Debian mate-backgrounds, nature/
    RealPhoto("water_drop", "mate-backgrounds", "debian", f"{_MATE}/Aqua.jpg", (2560, 1600),
              (0.5, 0.3, 0.92, 0.88), "garden"),
    RealPhoto("leaf", "mate-backgrounds", "debian", f"{_MATE}/Blinds.jpg", (1920, 1200),
              (0.1, 0.1, 0.9, 0.9), "garden"),
    RealPhoto("dune", "mate-backgrounds", "debian", f"{_MATE}/Dune.jpg", (1680, 1050),
              (0.0, 0.1, 1.0, 1.0), "florida"),
    RealPhoto("lily", "mate-backgrounds", "debian", f"{_MATE}/FreshFlower.jpg", (1600, 1203),
              (0.1, 0.1, 0.8, 0.95), "garden"),
    RealPhoto("marigold", "mate-backgrounds", "debian", f"{_MATE}/Garden.jpg", (2560, 1600),
              (0.32, 0.2, 1.0, 1.0), "garden"),
    RealPhoto("meadow", "mate-backgrounds", "debian", f"{_MATE}/GreenMeadow.jpg", (1280, 1024),
              (0.0, 0.0, 1.0, 1.0), "garden"),
    RealPhoto("ladybird", "mate-backgrounds", "debian", f"{_MATE}/LadyBird.jpg", (2560, 1600),
              (0.42, 0.3, 0.95, 0.75), "garden"),
    RealPhoto("raindrops", "mate-backgrounds", "debian", f"{_MATE}/RainDrops.jpg", (1920, 1200),
              (0.1, 0.0, 0.9, 1.0), "garden"),
    RealPhoto("storm", "mate-backgrounds", "debian", f"{_MATE}/Storm.jpg", (1920, 1280),
              (0.0, 0.3, 1.0, 1.0), "florida"),
    RealPhoto("seeds", "mate-backgrounds", "debian", f"{_MATE}/TwoWings.jpg", (2560, 1600),
              (0.3, 0.2, 0.95, 1.0), "garden"),
    RealPhoto("sunflower", "mate-backgrounds", "debian", f"{_MATE}/YellowFlower.jpg",
              (2560, 1600), (0.25, 0.0, 1.0, 1.0), "garden"),
)

# Real photos used only as the table under photographed documents.
TABLE_PHOTOS: tuple[RealPhoto, ...] = (
    RealPhoto("wood_table", "mate-backgrounds", "debian", f"{_MATE}/Wood.jpg", (2560, 1920),
              (0.0, 0.0, 1.0, 1.0), "everyday"),
    RealPhoto("concrete", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/Picture_0B_by_freespace.jpg", (2572, 1740),
              (0.0, 0.45, 0.22, 1.0), "everyday", "freespace"),
    RealPhoto("grey_desk", "lomiri-wallpapers-16.04", "debian",
              f"{_LOMIRI}/greentock_by_Peter_Nerlich.jpg", (2880, 2160),
              (0.0, 0.55, 0.35, 1.0), "everyday", "Peter Nerlich"),
)

PHOTO_BY_KEY = {p.key: p for p in PHOTOS + TABLE_PHOTOS}

# Real HTML documentation rendered as "browser" screenshots (Debian package debian-reference-en).
DOC_PAGES: tuple[str, ...] = tuple(
    f"/usr/share/debian-reference/{name}.en.html"
    for name in ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch09", "ch10", "ch12")
)

# Debian packages the builder installs when they are missing.
DEBIAN_PHOTO_PACKAGES = ("lomiri-wallpapers-16.04", "mate-backgrounds")
DEBIAN_SCREEN_PACKAGES = ("chromium", "debian-reference-en")
DEBIAN_FONT_PACKAGES = ("fonts-dejavu-core",)

EVENTS: tuple[EventInfo, ...] = (
    EventInfo(key="lisbon", title="Weekend in Lisbon", place="Lisbon, Portugal",
              utc_offset="+01:00", gps=GpsPoint(lat=38.7139, lon=-9.1394)),
    EventInfo(key="garden", title="Garden afternoon", place="Berlin, Germany",
              utc_offset="+02:00", gps=GpsPoint(lat=52.4870, lon=13.4250)),
    EventInfo(key="hike", title="Hiking in the Picos de Europa", place="Picos de Europa, Spain",
              utc_offset="+02:00", gps=GpsPoint(lat=43.1975, lon=-4.8530)),
    EventInfo(key="florida", title="Florida coast trip", place="Cape Canaveral, USA",
              utc_offset="-04:00", gps=GpsPoint(lat=28.3922, lon=-80.6077)),
    EventInfo(key="birthday", title="Grandma's birthday", place="Munich, Germany",
              utc_offset="+02:00", gps=GpsPoint(lat=48.1372, lon=11.5756)),
    EventInfo(key="everyday", title="Everyday life", place="Berlin, Germany",
              utc_offset="+02:00", gps=None),
    # Only the real Android clip (real_videos "android-dog"), on the day and place it was shot.
    EventInfo(key="dog_evening", title="An evening with the dog", place="Brasília, Brazil",
              utc_offset="-03:00", gps=GpsPoint(lat=-15.8355, lon=-48.0153)),
)
EVENT_BY_KEY = {e.key: e for e in EVENTS}

# (first local day as ISO date, number of days) of each event.
EVENT_DAYS: dict[str, tuple[str, int]] = {
    "lisbon": ("2024-05-17", 3),
    "garden": ("2024-06-09", 1),
    "hike": ("2024-07-06", 2),
    "florida": ("2024-10-11", 3),
    "birthday": ("2024-09-14", 1),
    "everyday": ("2024-05-01", 200),
    "dog_evening": ("2019-12-20", 1),
}


@dataclass(frozen=True)
class Device:
    make: str
    model: str
    software: str
    lens: str
    focal_mm: float


IPHONE = Device("Apple", "iPhone 13 Pro", "17.5.1",
                "iPhone 13 Pro back triple camera 5.7mm f/1.5", 5.7)
PIXEL = Device("Google", "Pixel 7", "HDR+ 1.0.606766617zd", "Pixel 7 back camera", 6.81)


@dataclass(frozen=True)
class Viewport:
    """A screen: CSS pixels times device scale factor gives the screenshot size."""

    name: str
    css_width: int
    css_height: int
    scale: float
    phone: bool

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.css_width * self.scale), round(self.css_height * self.scale)


VIEWPORTS: tuple[Viewport, ...] = (
    Viewport("iphone13pro", 390, 844, 3.0, True),  # 1170x2532
    Viewport("pixel7", 360, 800, 3.0, True),  # 1080x2400
    Viewport("iphone13promax", 428, 926, 3.0, True),  # 1284x2778
    Viewport("iphone15", 393, 852, 3.0, True),  # 1179x2556
    Viewport("ipad", 1024, 1366, 2.0, False),  # 2048x2732
    Viewport("macbook", 1440, 900, 2.0, False),  # 2880x1800
    Viewport("desktop", 1920, 1080, 1.0, False),  # 1920x1080
)
VIEWPORT_BY_NAME = {v.name: v for v in VIEWPORTS}
# How often each screen appears, as in a real roll: mostly the main phone.
VIEWPORT_WEIGHTS = {"iphone13pro": 8, "pixel7": 3, "iphone13promax": 2, "iphone15": 2,
                    "ipad": 2, "macbook": 2, "desktop": 1}

PAGE_KINDS: tuple[str, ...] = (
    "chat", "settings", "news", "shopping", "map", "code", "feed", "calendar", "email", "docs",
)
PHOTO_PAGE_KINDS: tuple[str, ...] = ("viewer", "feed")  # screens mostly of a photo
DOCUMENT_KINDS: tuple[str, ...] = ("receipt", "invoice", "letter", "boarding_pass")
