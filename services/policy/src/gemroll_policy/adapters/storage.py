"""The training copies in the object store: read the source, strip its metadata, write the copy.

No server-side copy: the original carries EXIF (exact GPS, serial numbers, owner names), XMP
and thumbnails, and none of that may reach the training set (gemroll_common.media_privacy).
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

from gemroll_common.errors import is_transient
from gemroll_common.media_privacy import UnreadableImage, strip_metadata
from gemroll_common.storage import ObjectStore, S3Error

from ..ports import StorageUnavailable, UnusableSource

MISSING = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
MAX_SOURCE_BYTES = 256 * 1024 * 1024
"""Larger sources are refused (ingest's own limit is far below)."""


class S3TrainingObjects:
    """Copies into the store's bucket; the minio client is synchronous, so every copy runs in
    this adapter's own threads (`workers` at a time, which bounds the memory in use)."""

    def __init__(self, store: ObjectStore, workers: int = 16) -> None:
        self.store = store
        self.bucket = store.bucket
        self._threads = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="policy-copy")

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        client = self.store.client

        def run() -> None:
            response = client.get_object(source_bucket, source_key)
            try:
                size = int(response.headers.get("Content-Length") or 0)
                if size > MAX_SOURCE_BYTES:
                    raise UnusableSource(f"source of {size} bytes is over the limit")
                data = response.read()
            finally:
                response.close()
                response.release_conn()
            clean = strip_metadata(data)
            self.store.put_sync(training_key, io.BytesIO(clean.data), len(clean.data),
                                clean.content_type)

        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, run)
        except S3Error as exc:
            if exc.code in MISSING:
                return False
            if is_transient(exc):
                raise StorageUnavailable(f"copy failed: {exc.code}") from exc
            raise UnusableSource(f"copy refused: {exc.code}") from exc
        except UnreadableImage as exc:
            raise UnusableSource(str(exc)) from exc
        except UnusableSource:
            raise
        except Exception as exc:  # connection refused, timeouts, urllib3 retries exhausted
            raise StorageUnavailable(f"copy failed: {type(exc).__name__}") from exc
        return True

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
