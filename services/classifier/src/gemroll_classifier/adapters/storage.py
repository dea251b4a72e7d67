"""Reading media objects through the runtime's ObjectStore (any bucket an event names).

Failures come out typed: `ObjectMissing` (the use case retries, then reports it missing),
`StoreUnavailable` (transient: the runner retries the batch) or `StoreRefused`.
"""

from __future__ import annotations

from pathlib import Path

from gemroll_common.storage import ObjectStore


class S3Reader:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def read(self, bucket: str, key: str) -> bytes:
        return await self._store.get_bytes(key, bucket)

    async def download(self, bucket: str, key: str, path: Path) -> int:
        """Streams the object to `path`, a chunk at a time."""
        return await self._store.download(key, str(path), bucket)
