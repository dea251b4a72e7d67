"""The media bucket behind the BlobStore port, over the runtime kit's ObjectStore.

Objects carry their content type and a `sha256` metadata entry (SSE-S3 when the settings ask
for it). The store being down or busy (`StoreUnavailable`) becomes the domain's
StorageUnavailable (503, consumers retry), a full one StorageFull (507); a refusal
(`StoreRefused`) stays what it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

from gemroll_common.errors import ObjectMissing, StoreFull, StoreUnavailable
from gemroll_common.settings import S3Settings
from gemroll_common.sniff import SNIFF_BYTES
from gemroll_common.storage import ObjectStore

from ..domain.errors import StorageFull, StorageUnavailable, TooLarge
from ..domain.media import StagedFile

CHUNK = 1024 * 1024


@contextlib.contextmanager
def _unavailable_as_domain_error() -> Iterator[None]:
    try:
        yield
    except StoreFull as exc:
        raise StorageFull("the photo store is full; nothing was kept, retry later") from exc
    except StoreUnavailable as exc:
        raise StorageUnavailable(str(exc)) from exc


class S3BlobStore:
    """Implements BlobStore over the runtime's `store`; presigned URLs name
    `presign_endpoint` (the endpoint clients reach; default: the service's own)."""

    def __init__(self, store: ObjectStore, s3: S3Settings, *, presign_endpoint: str | None = None,
                 spool_dir: str | None = None) -> None:
        self._store = store
        self._presigner = ObjectStore(
            s3.model_copy(update={"endpoint": presign_endpoint}) if presign_endpoint else s3)
        self._spool_dir = spool_dir
        self.bucket = store.bucket

    async def put_file(
        self, key: str, path: str, size: int, content_type: str, sha256: str
    ) -> None:
        with _unavailable_as_domain_error():
            await self._store.put_file(key, path, size, content_type, {"sha256": sha256})

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with _unavailable_as_domain_error():
            await self._store.put_bytes(key, data, content_type)

    async def size(self, key: str) -> int | None:
        with _unavailable_as_domain_error():
            info = await self._store.stat(key)
        return info.size if info is not None else None

    @contextlib.asynccontextmanager
    async def download(self, key: str, max_bytes: int) -> AsyncIterator[StagedFile]:
        fd, path = tempfile.mkstemp(prefix="gemroll-ingest-", dir=self._spool_dir)
        os.close(fd)
        try:
            try:
                with _unavailable_as_domain_error():
                    staged = await self._store.run_sync(self._fetch, key, path, max_bytes)
            except ObjectMissing as exc:  # removed since it was seen: ask to retry
                raise StorageUnavailable(f"the object went missing: {exc}") from exc
            yield staged
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _fetch(self, key: str, path: str, max_bytes: int) -> StagedFile:
        """Blocking: stream the object to `path` in 1 MiB chunks, hashing as it goes."""
        digest, size, head = hashlib.sha256(), 0, b""
        with self._store.open_sync(key) as reader, open(path, "wb") as out:
            for chunk in reader.chunks(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        return StagedFile(path=path, size=size, sha256=digest.hexdigest(), head=head)

    async def copy(self, source: str, target: str, content_type: str, sha256: str) -> None:
        with _unavailable_as_domain_error():
            await self._store.copy(source, target, content_type, {"sha256": sha256})

    async def delete(self, key: str) -> None:
        with _unavailable_as_domain_error():
            await self._store.delete(key)

    async def delete_prefix(self, prefix: str) -> int:
        with _unavailable_as_domain_error():
            return await self._store.delete_prefix(prefix)

    async def presigned_put(self, key: str, ttl_s: int) -> str:
        with _unavailable_as_domain_error():
            return await self._presigner.presigned_put(key, timedelta(seconds=ttl_s))
