"""Reading media objects from S3 (ObjectStore from gemroll_common)."""

from __future__ import annotations

from gemroll_common.kafka import TransientError
from gemroll_common.settings import S3Settings
from gemroll_common.storage import ObjectStore, S3Error

from ..ports import ObjectMissing

_MISSING = {"NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket"}


class S3Reader:
    def __init__(self, settings: S3Settings) -> None:
        self._settings = settings
        self._stores: dict[str, ObjectStore] = {}

    def _store(self, bucket: str) -> ObjectStore:
        if bucket not in self._stores:
            self._stores[bucket] = ObjectStore(self._settings, bucket=bucket)
        return self._stores[bucket]

    async def read(self, bucket: str, key: str) -> bytes:
        try:
            return await self._store(bucket).get_bytes(key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectMissing(f"{exc.code}: {bucket}/{key}") from exc
            raise TransientError(f"S3 error {exc.code} reading {bucket}/{key}") from exc
        except (OSError, ConnectionError) as exc:
            raise TransientError(f"S3 unreachable: {exc}") from exc
        except Exception as exc:  # urllib3 MaxRetryError and friends
            if type(exc).__module__.startswith("urllib3"):
                raise TransientError(f"S3 unreachable: {exc}") from exc
            raise

    async def ping(self) -> bool:
        return await self._store(self._settings.bucket).ping()
