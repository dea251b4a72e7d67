"""What the scorer sees about one image: metadata facts, pixel statistics, model signals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .detail import DetailStats
from .faces import Face


@dataclass(frozen=True)
class MediaFacts:
    """Metadata: from the upload event and the file itself."""

    width: int
    height: int
    file_format: str  # "JPEG", "PNG", "HEIF", "WEBP", ...
    camera_make: str | None = None
    camera_model: str | None = None
    has_capture_exif: bool = False  # exposure, f-number or original date-time tags present
    software: str | None = None
    frames: int = 1

    @property
    def has_camera(self) -> bool:
        return bool(self.camera_make or self.camera_model)

    def with_upload_camera(self, make: str | None, model: str | None) -> MediaFacts:
        """The file's own camera tags win; without any, the upload's (the phone's metadata)
        fill in."""
        if self.has_camera or not (make or model):
            return self
        return replace(self, camera_make=make, camera_model=model)


@dataclass(frozen=True)
class PixelStats:
    """Statistics of the analysis-sized image (see `pixels.pixel_stats`)."""

    brightness: float  # mean luminance, 0..1
    dark_fraction: float  # pixels darker than 0.16
    blown_fraction: float  # pixels brighter than 0.96
    contrast: float  # luminance standard deviation, 0..1
    laplacian_var: float  # variance of the 4-neighbour Laplacian (0..255 scale)
    noise_sigma: float  # Immerkaer noise estimate (0..255 scale)
    flat_fraction: float  # pixels identical to their right and lower neighbours
    edge_density: float  # pixels with a strong gradient
    colorfulness: float  # Hasler & Suesstrunk, ~0..150
    palette_fraction: float  # share of the 32 most common colours (5 bits per channel)
    paper_fraction: float  # bright, unsaturated pixels (white paper, light UI)
    sharpest_tile_var: float = 0.0  # Laplacian variance of the sharpest 4x4 tile
    directional_var: float = 0.0  # see pixels.directional_sharpness
    skin_fraction: float = 0.0  # skin-tone pixels (YCbCr box); below a floor NSFW is moot
    luma_p99: float = 0.0  # highlights: light sources keep a night scene from being "dark"
    bright_fraction: float = 0.0  # pixels brighter than 0.6


@dataclass(frozen=True)
class ModelSignals:
    """What the image model said: top ImageNet labels and label-family probabilities."""

    labels: tuple[str, ...]
    label_probs: tuple[float, ...]
    families: dict[str, float] = field(default_factory=dict)
    """Summed probability per label family (see `labels.LABEL_FAMILIES`)."""


class Unreadable(Exception):
    """The bytes are not an image we can decode; `detail` goes into the reason code."""

    def __init__(self, detail: str, message: str = "") -> None:
        super().__init__(message or detail)
        self.detail = detail


@dataclass
class Prepared:
    """One decoded image, ready for the models and the scorer."""

    facts: MediaFacts
    stats: PixelStats
    phash: int
    rgb: np.ndarray  # analysis size, H x W x 3 uint8
    model_input: Any  # 224 x 224 x 3 uint8 array, or a 3 x 224 x 224 CUDA tensor
    faces: tuple[Face, ...] = ()  # detected on `rgb` (photos only), largest first
    detail: DetailStats | None = None  # sharpness on the large decode (None: not measured)


@dataclass
class ClipFrame:
    """One sampled key frame of a video, prepared as a photo would be."""

    time_s: float
    prepared: Prepared


@dataclass
class PreparedClip:
    """A video's container facts and its sampled frames (in time order)."""

    width: int
    height: int
    duration_s: float
    video_codec: str
    frames: list[ClipFrame]


def video_frame_facts(width: int, height: int) -> MediaFacts:
    """The facts a sampled frame is judged with: at its analysis size (phones record at
    screen resolutions, so the screen-size test is moot) and as camera capture (a video has
    no EXIF; the container is its capture record)."""
    return MediaFacts(width=width, height=height, file_format="VIDEO", has_capture_exif=True)
