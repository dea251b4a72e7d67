"""The training copies in the object store: a server-side S3 copy (no bytes pass through here)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from gemroll_common.storage import ObjectStore, S3Error
from minio.commonconfig import CopySource

from ..ports import StorageUnavailable

MISSING = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})


class S3TrainingObjects:
    """Copies into the store's bucket; the minio client is synchronous, so every copy runs in
    this adapter's own threads (`workers` at a time)."""

    def __init__(self, store: ObjectStore, workers: int = 16) -> None:
        self.store = store
        self.bucket = store.bucket
        self._threads = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="policy-copy")

    async def copy(self, source_bucket: str, source_key: str, training_key: str) -> bool:
        def run() -> None:
            self.store.client.copy_object(self.bucket, training_key,
                                          CopySource(source_bucket, source_key),
                                          sse=self.store._sse)  # noqa: SLF001 - same config

        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, run)
        except S3Error as exc:
            if exc.code in MISSING:
                return False
            raise StorageUnavailable(f"copy failed: {exc.code}") from exc
        except Exception as exc:  # connection refused, timeouts, urllib3 retries exhausted
            raise StorageUnavailable(f"copy failed: {type(exc).__name__}") from exc
        return True

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
