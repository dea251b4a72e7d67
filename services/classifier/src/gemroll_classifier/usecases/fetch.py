"""Fetching a batch's objects, concurrently. An object not there (yet) is tried again with
backoff, then reported missing; a store outage propagates (the runner retries the batch)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gemroll_common.logging import get_logger
from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploadedData

from ..ports import ObjectMissing, ObjectReader

log = get_logger(__name__)


async def fetch_objects(reader: ObjectReader, uploads: Sequence[MediaUploadedData], *,
                        attempts: int, backoff: Backoff,
                        concurrency: int) -> list[bytes | ObjectMissing]:
    """Each upload's bytes, or an `ObjectMissing` saying it was still missing after
    `attempts` tries; at most `concurrency` reads in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def fetch(data: MediaUploadedData) -> bytes | ObjectMissing:
        for attempt in range(1, attempts + 1):
            try:
                async with gate:
                    return await reader.read(data.bucket, data.object_key)
            except ObjectMissing as exc:
                if attempt == attempts:
                    log.warning("object_missing", media_id=str(data.media_id), attempts=attempt)
                    return ObjectMissing(f"object {data.bucket}/{data.object_key} still missing "
                                         f"after {attempt} attempts: {exc}")
                await backoff.wait(attempt)
        raise AssertionError("unreachable: attempts >= 1")

    return list(await asyncio.gather(*(fetch(data) for data in uploads)))
