"""S3-compatible object storage (MinIO in production, SeaweedFS in development).

The minio client is synchronous; every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import BinaryIO
from urllib.parse import urlparse

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.sse import SseS3

from .settings import S3Settings


def http_client(settings: S3Settings) -> urllib3.PoolManager:
    """minio's own defaults (timeouts, retries on 5xx) with a larger pool; over https the
    server is verified against S3_CA_FILE, else the certifi bundle."""
    options: dict[str, object] = {
        "maxsize": 32,
        "timeout": urllib3.Timeout(connect=10, read=300),
        "retries": urllib3.Retry(total=5, backoff_factor=0.2,
                                 status_forcelist=[500, 502, 503, 504]),
    }
    if urlparse(settings.endpoint).scheme == "https":
        options.update(cert_reqs="CERT_REQUIRED", ca_certs=settings.ca_file or certifi.where())
    return urllib3.PoolManager(**options)  # type: ignore[arg-type]


def make_minio(settings: S3Settings) -> Minio:
    url = urlparse(settings.endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"S3_ENDPOINT must be http(s)://host[:port], got {settings.endpoint!r}")
    secure = url.scheme == "https"
    http = http_client(settings)
    return Minio(
        url.netloc,
        access_key=settings.access_key.get_secret_value(),
        secret_key=settings.secret_key.get_secret_value(),
        secure=secure,
        region=settings.region,
        http_client=http,
    )


class ObjectStore:
    """The media bucket: put, get, stat, delete, list and presign objects."""

    def __init__(self, settings: S3Settings, bucket: str | None = None) -> None:
        self.client = make_minio(settings)
        self.bucket = bucket or settings.bucket
        self._sse = SseS3() if settings.server_side_encryption else None

    async def ensure_bucket(self) -> None:
        def create() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(create)

    async def put_stream(
        self, key: str, stream: BinaryIO, length: int, content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        await asyncio.to_thread(self.put_sync, key, stream, length, content_type, metadata)

    def put_sync(
        self, key: str, stream: BinaryIO, length: int, content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """`put_stream` for callers already on a worker thread."""
        self.client.put_object(
            self.bucket, key, stream, length, content_type=content_type, metadata=metadata,
            sse=self._sse, part_size=16 * 1024 * 1024 if length < 0 else 0,
        )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self.put_stream(key, io.BytesIO(data), len(data), content_type)

    async def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, key)

    async def delete_prefix(self, prefix: str) -> int:
        def remove() -> int:
            names = [o.object_name for o in
                     self.client.list_objects(self.bucket, prefix=prefix, recursive=True)]
            errors = list(self.client.remove_objects(
                self.bucket, (DeleteObject(n) for n in names if n)))
            if errors:
                raise RuntimeError(f"failed to delete {len(errors)} objects under {prefix}")
            return len(names)

        return await asyncio.to_thread(remove)

    async def list_keys(self, prefix: str) -> list[str]:
        def listing() -> list[str]:
            return [o.object_name or "" for o in
                    self.client.list_objects(self.bucket, prefix=prefix, recursive=True)]

        return await asyncio.to_thread(listing)

    async def presigned_put(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        return await asyncio.to_thread(self.client.presigned_put_object, self.bucket, key, expires)

    async def ping(self) -> bool:
        return await asyncio.to_thread(self.client.bucket_exists, self.bucket)


__all__ = ["ObjectStore", "S3Error", "make_minio"]
