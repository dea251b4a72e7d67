"""ObjectStorage on the shared S3 ObjectStore (minio).

Deletions are all or nothing for the caller: if any key of a multi-delete fails (other than
"already missing"), `StorageBusy` (a TransientError) is raised, so the removal that asked for
it is retried, in order, until every object is gone; it is never dead-lettered half done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gemroll_common.kafka import TransientError
from gemroll_common.storage import ObjectStore, S3Error
from minio.deleteobjects import DeleteObject

from ..ports import MissingObject, ObjectStorage

_MISSING = ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket")


class StorageBusy(TransientError):
    """Some objects of a deletion could not be deleted this time: retry the whole removal."""

    def __init__(self, failed: list[tuple[str, str, str]]) -> None:
        self.failed = failed
        name, code, message = failed[0]
        super().__init__(f"failed to delete {len(failed)} objects (first: {name}: {code} "
                         f"{message})")


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
            failed = [(e.name or "", e.code or "", e.message or "") for e in errors
                      if e.code not in _MISSING]
            if failed:
                raise StorageBusy(failed)

        await asyncio.to_thread(remove)

    async def delete_prefix(self, prefix: str) -> None:
        def listing() -> list[str]:
            return [o.object_name for o in self._store.client.list_objects(
                self.bucket, prefix=prefix, recursive=True) if o.object_name]

        await self.delete(await asyncio.to_thread(listing))
