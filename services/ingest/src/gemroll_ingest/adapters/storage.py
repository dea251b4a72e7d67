"""The media bucket behind the BlobStore port (minio client, calls in worker threads)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import urllib3
from gemroll_common.settings import S3Settings
from gemroll_common.storage import ObjectStore, S3Error
from minio.commonconfig import REPLACE, CopySource
from minio.error import InvalidResponseError, ServerError
from minio.sse import SseS3

from ..domain.errors import StorageUnavailable, TooLarge
from ..domain.media import StagedFile
from ..domain.sniff import SNIFF_BYTES

T = TypeVar("T")
CHUNK = 1024 * 1024
_MISSING = ("NoSuchKey", "NoSuchObject", "ResourceNotFound")
_STORE_ERRORS = (S3Error, ServerError, InvalidResponseError, urllib3.exceptions.HTTPError, OSError)


@contextlib.contextmanager
def _unavailable_on_failure(action: str) -> Iterator[None]:
    """The store failed (down, refusing, broken connection): a retryable StorageUnavailable."""
    try:
        yield
    except _STORE_ERRORS as exc:
        raise StorageUnavailable(f"object store failed to {action}: {exc}") from exc


class S3BlobStore:
    """Implements BlobStore. Objects carry their content type and a `sha256` metadata entry;
    server-side encryption (SSE-S3) is requested when `S3_SERVER_SIDE_ENCRYPTION` is set."""

    def __init__(
        self, settings: S3Settings, *, presign_endpoint: str | None = None,
        spool_dir: str | None = None, threads: int = 16,
    ) -> None:
        # Blocking S3 calls get their own threads: the default executor (CPUs + 4) would
        # otherwise cap concurrent uploads and compete with hashing and image decoding.
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="gemroll-s3")
        self._spool_dir = spool_dir
        self._store = ObjectStore(settings)
        self.bucket = self._store.bucket
        self._client = self._store.client
        self._sse = SseS3() if settings.server_side_encryption else None
        presign_settings = (
            settings.model_copy(update={"endpoint": presign_endpoint}) if presign_endpoint
            else settings
        )
        self._presigner = ObjectStore(presign_settings)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def ensure_bucket(self) -> None:
        await self._store.ensure_bucket()

    async def ping(self) -> bool:
        return await self._store.ping()

    async def put_file(
        self, key: str, path: str, size: int, content_type: str, sha256: str
    ) -> None:
        def put() -> None:
            with open(path, "rb") as stream:
                self._client.put_object(
                    self.bucket, key, stream, size, content_type=content_type,
                    metadata={"sha256": sha256}, sse=self._sse,
                )

        await self._run(put)

    async def size(self, key: str) -> int | None:
        with _unavailable_on_failure("stat an object"):
            try:
                stat = await self._run(self._client.stat_object, self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    return None
                raise
        return stat.size

    @contextlib.asynccontextmanager
    async def download(self, key: str, max_bytes: int) -> AsyncIterator[StagedFile]:
        fd, path = tempfile.mkstemp(prefix="gemroll-ingest-", dir=self._spool_dir)
        os.close(fd)
        try:
            with _unavailable_on_failure("read an object"):
                staged = await self._run(self._fetch, key, path, max_bytes)
            yield staged
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _fetch(self, key: str, path: str, max_bytes: int) -> StagedFile:
        """Blocking: stream the object to `path` in 1 MiB chunks."""
        digest, size, head = hashlib.sha256(), 0, b""
        response = self._client.get_object(self.bucket, key)
        try:
            with open(path, "wb") as out:
                for chunk in response.stream(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
        finally:
            response.close()
            response.release_conn()
        return StagedFile(path=path, size=size, sha256=digest.hexdigest(), head=head)

    async def copy(self, source: str, target: str, content_type: str, sha256: str) -> None:
        await self._run(
            self._client.copy_object, self.bucket, target, CopySource(self.bucket, source),
            metadata={"Content-Type": content_type, "x-amz-meta-sha256": sha256},
            metadata_directive=REPLACE, sse=self._sse,
        )

    async def delete(self, key: str) -> None:
        with _unavailable_on_failure("delete an object"):
            await self._run(self._client.remove_object, self.bucket, key)

    async def delete_prefix(self, prefix: str) -> int:
        with _unavailable_on_failure("delete objects"):
            return await self._store.delete_prefix(prefix)

    async def presigned_put(self, key: str, ttl_s: int) -> str:
        with _unavailable_on_failure("presign a URL"):
            return await self._presigner.presigned_put(key, timedelta(seconds=ttl_s))
