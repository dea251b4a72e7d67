"""S3-compatible object storage (MinIO in production, SeaweedFS in development).

`ObjectStore` is the one adapter every service uses. Failures come out typed (see
`gemroll_common.errors`): `ObjectMissing`, `StoreUnavailable` (transient: retry) and
`StoreRefused` (final). The minio client is synchronous: every call runs in a worker thread
(the store's own pool when `threads` is given, else the default executor); the `*_sync`
methods are for callers already on a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO, TypeVar

from minio.commonconfig import REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.sse import SseS3

from .errors import ObjectMissing, StoreRefused, StoreUnavailable
from .s3_client import MISSING_CODES, make_minio, store_error, typed_errors
from .settings import S3Settings

T = TypeVar("T")
MULTIPART_PART_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None
    metadata: dict[str, str]


class ObjectReader:
    """An open object: its size, then its bytes in chunks (a blocking read)."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self.size = int(response.headers.get("Content-Length") or 0)

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with typed_errors("read an object"):
            yield from self._response.stream(size)

    def read(self) -> bytes:
        with typed_errors("read an object"):
            return bytes(self._response.read())


class ObjectStore:
    """A bucket: put, get, stat, copy, delete, list and presign objects."""

    def __init__(self, settings: S3Settings, bucket: str | None = None, *,
                 threads: int | None = None) -> None:
        self._client = make_minio(settings)
        self.bucket = bucket or settings.bucket
        self._sse = SseS3() if settings.server_side_encryption else None
        self._executor = (ThreadPoolExecutor(threads, thread_name_prefix="gemroll-s3")
                          if threads else None)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def call() -> T:
            with typed_errors(action):
                return fn(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(call))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work built on the `*_sync` methods (say, streaming an object to a
        file) on the store's threads."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, *args))

    async def ensure_bucket(self) -> None:
        def create() -> None:
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await self._run("create the bucket", create)

    async def ping(self) -> bool:
        return await self._run("reach the bucket", self._client.bucket_exists, self.bucket)

    # -- writing --------------------------------------------------------------------------
    def put_sync(self, key: str, stream: BinaryIO, length: int, content_type: str,
                 metadata: dict[str, str] | None = None) -> None:
        """One part at a time: in parallel, minio queues every part it reads ahead, so a 2 GB
        video would sit in memory."""
        with typed_errors("write an object"):
            self._client.put_object(
                self.bucket, key, stream, length, content_type=content_type, metadata=metadata,
                sse=self._sse, part_size=MULTIPART_PART_BYTES if length < 0 else 0,
                num_parallel_uploads=1,
            )

    async def put_stream(self, key: str, stream: BinaryIO, length: int, content_type: str,
                         metadata: dict[str, str] | None = None) -> None:
        await self._run("write an object", self.put_sync, key, stream, length, content_type,
                        metadata)

    async def put_bytes(self, key: str, data: bytes, content_type: str,
                        metadata: dict[str, str] | None = None) -> None:
        await self.put_stream(key, io.BytesIO(data), len(data), content_type, metadata)

    async def put_file(self, key: str, path: str, size: int, content_type: str,
                       metadata: dict[str, str] | None = None) -> None:
        def put() -> None:
            with open(path, "rb") as stream:
                self.put_sync(key, stream, size, content_type, metadata)

        await self._run("write an object", put)

    async def copy(self, source: str, target: str, content_type: str,
                   metadata: dict[str, str] | None = None) -> None:
        """Server-side copy within the bucket, replacing the content type and metadata."""
        headers = {"Content-Type": content_type,
                   **{f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()}}
        await self._run("copy an object", self._client.copy_object, self.bucket, target,
                        CopySource(self.bucket, source), metadata=headers,
                        metadata_directive=REPLACE, sse=self._sse)

    # -- reading --------------------------------------------------------------------------
    @contextlib.contextmanager
    def open_sync(self, key: str, bucket: str | None = None, offset: int = 0
                  ) -> Iterator[ObjectReader]:
        """The object from byte `offset` on."""
        with typed_errors("read an object"):
            response = self._client.get_object(bucket or self.bucket, key, offset=offset)
        try:
            yield ObjectReader(response)
        finally:
            response.close()
            response.release_conn()

    def get_bytes_sync(self, key: str, bucket: str | None = None) -> bytes:
        with self.open_sync(key, bucket) as reader:
            return reader.read()

    async def get_bytes(self, key: str, bucket: str | None = None) -> bytes:
        return await self._run("read an object", self.get_bytes_sync, key, bucket)

    def download_sync(self, key: str, path: str, bucket: str | None = None,
                      max_bytes: int | None = None, offset: int = 0) -> int:
        """Stream the object (from byte `offset` on) into the file at `path`, a chunk at a
        time: memory does not grow with the object; its size. `StoreRefused` when it is over
        `max_bytes`."""
        with self.open_sync(key, bucket, offset) as reader, open(path, "wb") as out:
            if max_bytes is not None and reader.size > max_bytes:
                raise StoreRefused(f"the object is over {max_bytes} bytes")
            size = 0
            for chunk in reader.chunks():
                size += out.write(chunk)
            return size

    async def download(self, key: str, path: str, bucket: str | None = None,
                       max_bytes: int | None = None, offset: int = 0) -> int:
        return await self._run("read an object", self.download_sync, key, path, bucket,
                               max_bytes, offset)

    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's size and metadata; None when it does not exist."""
        try:
            found = await self._run("stat an object", self._client.stat_object, self.bucket, key)
        except ObjectMissing:
            return None
        metadata = {k.lower().removeprefix("x-amz-meta-"): v
                    for k, v in (found.metadata or {}).items()
                    if k.lower().startswith("x-amz-meta-")}
        return ObjectInfo(size=found.size or 0, content_type=found.content_type,
                          metadata=metadata)

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def list_keys(self, prefix: str) -> list[str]:
        def listing() -> list[str]:
            return [o.object_name for o in
                    self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
                    if o.object_name]

        return await self._run("list objects", listing)

    # -- deleting -------------------------------------------------------------------------
    async def delete(self, key: str) -> None:
        """Deletes one object; a missing one is fine."""
        await self.delete_many([key])

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Deletes objects (missing ones are fine); raises StoreUnavailable when some could
        not be deleted this time, so the caller retries the whole removal."""
        names = [k for k in keys if k]
        if not names:
            return 0

        def remove() -> int:
            errors = [e for e in self._client.remove_objects(
                self.bucket, (DeleteObject(n) for n in names)) if e.code not in MISSING_CODES]
            if errors:
                first = errors[0]
                raise StoreUnavailable(f"failed to delete {len(errors)} objects (first: "
                                       f"{first.name}: {first.code} {first.message})")
            return len(names)

        return await self._run("delete objects", remove)

    async def delete_prefix(self, prefix: str) -> int:
        return await self.delete_many(await self.list_keys(prefix))

    async def presigned_put(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        return await self._run("presign a URL", self._client.presigned_put_object, self.bucket,
                               key, expires)


__all__ = ["MISSING_CODES", "ObjectInfo", "ObjectMissing", "ObjectReader", "ObjectStore",
           "StoreRefused", "StoreUnavailable", "make_minio", "store_error", "typed_errors"]
