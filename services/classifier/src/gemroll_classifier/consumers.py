"""Kafka entrypoints, through the runtime kit's runner: uploads in micro-batches, erasures
one by one.

The runner decodes, retries (a dependency outage: until it passes; anything else: a few
times, then event by event) and dead-letters. Here the batch's outcomes become its report: an
upload whose object stayed missing is a `Failure` (dead-lettered), an erased one is
`Skipped` (counted as "erased").
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from gemroll_common.consumer import Consumers, Failure, Skipped
from gemroll_contracts import MEDIA_ERASED, MEDIA_UPLOADED, MediaErased, MediaUploaded

from .usecases.classify_batch import ClassifyBatch
from .usecases.erasure import EraseMedia
from .usecases.outcomes import Erased, Outcome

MAX_PARTITION_FETCH_BYTES = 4 * 1024 * 1024


def report(outcomes: Mapping[UUID, Outcome]) -> dict[UUID, Failure | Skipped]:
    """The runner's view of a batch: the events to dead-letter and the erased ones."""
    out: dict[UUID, Failure | Skipped] = {}
    for event_id, outcome in outcomes.items():
        if isinstance(outcome, Failure):
            out[event_id] = outcome
        elif isinstance(outcome, Erased):
            out[event_id] = Skipped("erased")
    return out


def subscribe(consumers: Consumers, classify: ClassifyBatch, erasure: EraseMedia, *,
              batch_max: int, batch_timeout_ms: int) -> None:
    async def on_uploaded(events: list[MediaUploaded]) -> dict[UUID, Failure | Skipped]:
        return report(await classify.classify(events))

    async def on_erased(event: MediaErased) -> None:
        await erasure.erase(event)

    consumers.subscribe_batch(MEDIA_UPLOADED, on_uploaded, max_records=batch_max,
                              timeout_ms=batch_timeout_ms,
                              max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES)
    consumers.subscribe(MEDIA_ERASED, on_erased)
