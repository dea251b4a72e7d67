"""The ImageInspector port for photos and videos: sniff the bytes, then Pillow's checks for a
photo or PyAV's for a video. Previews are always made from a picture (a video's poster)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile

from gemroll_common.sniff import sniff_content_type
from gemroll_common.video import VideoUnreadable
from gemroll_common.video_privacy import copy_without_metadata

from ..domain.errors import EmptyFile, InvalidVideo, UnsupportedMediaType
from ..domain.media import ImageFacts, StagedFile
from ..domain.video import is_video
from ..settings import IngestSettings
from .images import PillowInspector
from .videos import VideoInspector

ACCEPTED = ("only JPEG, PNG, HEIC/HEIF, AVIF and WebP photos and MP4, MOV, M4V, Matroska and "
            "WebM videos are accepted (judged by content)")


class MediaInspector:
    def __init__(self, images: PillowInspector, videos: VideoInspector) -> None:
        self.images = images
        self.videos = videos

    @classmethod
    def configured(cls, cfg: IngestSettings) -> MediaInspector:
        """Both inspectors with the settings' limits, sharing the decode concurrency."""
        return cls(PillowInspector(cfg.max_image_pixels, cfg.full_decode_max_pixels,
                                   cfg.decode_concurrency),
                   VideoInspector(max_duration_s=cfg.max_video_duration_s,
                                  max_pixels=cfg.max_image_pixels,
                                  slots=asyncio.Semaphore(cfg.decode_concurrency)))

    async def inspect(self, staged: StagedFile) -> ImageFacts:
        if staged.size == 0:
            raise EmptyFile("the file is empty")
        content_type = sniff_content_type(staged.head)
        if content_type is None:
            raise UnsupportedMediaType(ACCEPTED)
        if is_video(content_type):
            return await self.videos.inspect(staged.path, content_type)
        return await self.images.inspect(staged)

    async def preview(self, path: str, long_side: int) -> bytes:
        return await self.images.preview(path, long_side)

    async def motion_clip(self, path: str, offset: int) -> bytes:
        return await asyncio.to_thread(_motion_clip, path, offset)


def _motion_clip(path: str, offset: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gemroll-motion-") as work:
        clip, out = os.path.join(work, "clip"), os.path.join(work, "clip.mp4")
        with open(path, "rb") as source, open(clip, "wb") as target:
            source.seek(offset)
            shutil.copyfileobj(source, target)
        try:
            copy_without_metadata(clip, out)
        except VideoUnreadable as exc:
            raise InvalidVideo(f"the motion photo's clip does not read: {exc}") from None
        with open(out, "rb") as result:
            return result.read()
