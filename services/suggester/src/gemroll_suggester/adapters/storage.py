"""ObjectStorage on the shared S3 ObjectStore (minio)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gemroll_common.storage import ObjectStore, S3Error
from minio.deleteobjects import DeleteObject

from ..ports import MissingObject, ObjectStorage

_MISSING = ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket")


class S3Storage(ObjectStorage):
    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.bucket = store.bucket

    async def get(self, key: str, bucket: str | None = None) -> bytes:
        def read() -> bytes:
            response = self._store.client.get_object(bucket or self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return await asyncio.to_thread(read)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise MissingObject(key) from exc
            raise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._store.put_bytes(key, data, content_type)

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return

        def remove() -> None:
            errors = list(self._store.client.remove_objects(
                self.bucket, (DeleteObject(k) for k in keys)))
            failed = [e for e in errors if e.code not in _MISSING]
            if failed:
                raise RuntimeError(f"failed to delete {len(failed)} objects: {failed[0].message}")

        await asyncio.to_thread(remove)

    async def delete_prefix(self, prefix: str) -> None:
        await self._store.delete_prefix(prefix)
