"""Fetching a batch's objects, concurrently: photos into memory, videos streamed to files. An
object not there (yet) is tried again with backoff, then reported missing; a store outage
propagates (the runner retries the batch)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from gemroll_common.logging import get_logger
from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploadedData

from ..ports import ObjectMissing, ObjectReader

log = get_logger(__name__)
T = TypeVar("T")


async def _retrying(data: MediaUploadedData, read: Callable[[], Awaitable[T]], *,
                    attempts: int, backoff: Backoff) -> T | ObjectMissing:
    for attempt in range(1, attempts + 1):
        try:
            return await read()
        except ObjectMissing as exc:
            if attempt == attempts:
                log.warning("object_missing", media_id=str(data.media_id), attempts=attempt)
                return ObjectMissing(f"object {data.bucket}/{data.object_key} still missing "
                                     f"after {attempt} attempts: {exc}")
            await backoff.wait(attempt)
    raise AssertionError("unreachable: attempts >= 1")


async def fetch_objects(reader: ObjectReader, uploads: Sequence[MediaUploadedData], *,
                        attempts: int, backoff: Backoff,
                        concurrency: int) -> list[bytes | ObjectMissing]:
    """Each upload's bytes, or an `ObjectMissing` saying it was still missing after
    `attempts` tries; at most `concurrency` reads in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def fetch(data: MediaUploadedData) -> bytes | ObjectMissing:
        async def read() -> bytes:
            async with gate:
                return await reader.read(data.bucket, data.object_key)

        return await _retrying(data, read, attempts=attempts, backoff=backoff)

    return list(await asyncio.gather(*(fetch(data) for data in uploads)))


async def fetch_to_file(reader: ObjectReader, data: MediaUploadedData, path: Path, *,
                        attempts: int, backoff: Backoff) -> Path | ObjectMissing:
    """The upload's object streamed into `path` (a video: never whole in memory)."""
    async def read() -> Path:
        await reader.download(data.bucket, data.object_key, path)
        return path

    return await _retrying(data, read, attempts=attempts, backoff=backoff)
