"""ObjectStorage on the common ObjectStore: its typed errors come through unchanged.

A deletion is all or nothing for the caller: when some keys could not be deleted this time
the store raises `StoreUnavailable` (transient), so the removal that asked for it is retried,
in order, until every object is gone; a request the store refuses (`StoreRefused`) is final.
"""

from __future__ import annotations

from collections.abc import Sequence

from gemroll_common.storage import ObjectStore

from ..ports import ObjectStorage


class S3Storage(ObjectStorage):
    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.bucket = store.bucket

    async def get(self, key: str, bucket: str | None = None) -> bytes:
        return await self._store.get_bytes(key, bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._store.put_bytes(key, data, content_type)

    async def download(self, key: str, path: str, bucket: str | None = None,
                       max_bytes: int | None = None) -> int:
        return await self._store.download(key, path, bucket, max_bytes)

    async def delete(self, keys: Sequence[str]) -> None:
        await self._store.delete_many(keys)

    async def delete_prefix(self, prefix: str) -> None:
        await self._store.delete_prefix(prefix)
