"""The training copies in the object store: read the source, strip its metadata, write the copy.

No server-side copy: the original carries EXIF (exact GPS, serial numbers, owner names), XMP
and thumbnails, and none of that may reach the training set (gemroll_common.media_privacy).
A video is streamed through a temporary file and remuxed without its tags and audio
(gemroll_common.video_privacy): memory does not grow with the clip.
The store's typed errors become the port's: a missing source is False, a refusal (or a
source that is no image) UnusableSource, the store down StorageUnavailable.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator

from gemroll_common.errors import ObjectMissing, StoreRefused, is_transient
from gemroll_common.media_privacy import UnreadableImage, strip_metadata
from gemroll_common.sniff import SNIFF_BYTES, sniff_content_type
from gemroll_common.storage import ObjectStore
from gemroll_common.video import VideoUnreadable
from gemroll_common.video_privacy import copy_without_metadata

from ..ports import StorageUnavailable, UnusableSource

MAX_SOURCE_BYTES = 256 * 1024 * 1024
"""Larger photos are refused (ingest's own limit is far below)."""
MAX_VIDEO_BYTES = 4 * 1024**3
"""Larger videos are refused (ingest's own default is 2 GiB)."""


class S3TrainingObjects:
    """Copies into the store's bucket, on the store's threads (blocking reads and writes;
    the gate runs a bounded number of copies at a time, which bounds the memory in use)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.bucket = store.bucket

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        try:
            return await self.store.run_sync(self._copy, source_bucket, source_key,
                                             training_key)
        except UnusableSource:
            raise
        except (UnreadableImage, VideoUnreadable) as exc:  # final, even after an OSError
            raise UnusableSource(str(exc)) from None
        except (StoreRefused, ObjectMissing) as exc:  # missing here: the training bucket
            raise UnusableSource(f"copy refused: {exc}") from exc
        except Exception as exc:
            if is_transient(exc):
                raise StorageUnavailable(f"copy failed: {type(exc).__name__}") from exc
            raise

    def _copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        try:
            with self.store.open_sync(source_key, source_bucket) as source:
                chunks = source.chunks(SNIFF_BYTES)
                head = next(chunks, b"")
                if (sniff_content_type(head) or "").startswith("video/"):
                    return self._copy_video(source.size, head, source.chunks(), training_key)
                if source.size > MAX_SOURCE_BYTES:
                    raise UnusableSource(f"source of {source.size} bytes is over the limit")
                data = head + source.read()
        except ObjectMissing:
            return False
        clean = strip_metadata(data)
        self.store.put_sync(training_key, io.BytesIO(clean.data), len(clean.data),
                            clean.content_type)
        return True

    def _copy_video(self, size: int, head: bytes, rest: Iterator[bytes],
                    training_key: str) -> bool:
        if size > MAX_VIDEO_BYTES:
            raise UnusableSource(f"video of {size} bytes is over the limit")
        with tempfile.TemporaryDirectory(prefix="gemroll-training-") as work:
            original, copy = os.path.join(work, "original"), os.path.join(work, "copy.mp4")
            with open(original, "wb") as out:
                out.write(head)
                for chunk in rest:
                    out.write(chunk)
            copy_without_metadata(original, copy)
            with open(copy, "rb") as stream:
                self.store.put_sync(training_key, stream, os.path.getsize(copy), "video/mp4")
        return True
