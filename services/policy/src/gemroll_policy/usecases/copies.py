"""The training copies of admitted images, made outside the gate's transactions.

Every admitted image is first copied, metadata-free, to its training key
(`training/<subject>/<candidate id>`), which is all a training event names. The gate queues
an admission for its copy (`Changes.copies_due`); `make` writes the copies of a round
concurrently, `concurrency` at a time, with no transaction open and no lock held; `settle`
then applies what each copy's result means for its admission (the domain's rule,
`domain.admissions`) to the outcomes of the recheck.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gemroll_common.errors import is_transient
from gemroll_common.logging import get_logger

from .. import metrics
from ..domain import (
    Admit,
    Candidate,
    CopyResult,
    Decided,
    Outcome,
    hold_unbacked,
    instead_of_admissions,
    without_admissions,
)
from ..ports import Changes, ErasureJob, GateStore, TrainingObjects, UnusableSource

log = get_logger(__name__)


def refuse_unbacked(outcomes: list[Outcome]) -> list[Outcome]:
    """An admission without evidence is counted, and its candidate stays held instead. The
    rule never produces one; the alert on the metric says if it did."""
    kept, held = hold_unbacked(outcomes)
    for c in held:
        metrics.ADMISSIONS_WITHOUT_EVIDENCE.inc()
        log.error("admission_without_evidence_refused", candidate_id=str(c.candidate_id))
    return kept


def admitted(outcomes: Sequence[Outcome]) -> list[UUID]:
    return [o.candidate.candidate_id for o in outcomes
            if isinstance(o, Decided) and isinstance(o.verdict, Admit)]


@dataclass(frozen=True)
class Copies:
    """What one round wrote: each candidate's training key and the copy's result."""

    keys: dict[UUID, str]
    results: dict[UUID, CopyResult]


class TrainingCopies:
    def __init__(self, store: GateStore, objects: TrainingObjects,
                 training_key: Callable[[str, UUID], str], clock: Callable[[], datetime],
                 concurrency: int) -> None:
        self.store = store
        self.objects = objects
        self.training_key = training_key
        self.clock = clock
        self.concurrency = concurrency

    async def make(self, candidates: Sequence[Candidate]) -> Copies:
        """Write the candidates' training copies (their keys recorded first, on their own)."""
        keys = {c.candidate_id: self.training_key(c.user_key, c.candidate_id)
                for c in candidates}
        await self.store.record_copies(list(keys.items()), self.clock())
        limit = asyncio.Semaphore(self.concurrency)

        async def copy(c: Candidate) -> bool:
            async with limit:
                return await self.objects.copy(c.bucket, c.object_key, keys[c.candidate_id])

        done = await asyncio.gather(*(copy(c) for c in candidates), return_exceptions=True)
        results = {c.candidate_id: _result(c, r) for c, r in zip(candidates, done, strict=True)}
        for kind, n in Counter(results.values()).items():
            metrics.TRAINING_COPIES.labels(kind.value).inc(n)
        return Copies(keys, results)

    def settle(self, outcomes: list[Outcome], copies: Copies) -> tuple[list[Outcome], Changes]:
        """The recheck's outcomes once the copies are in: an admission stands only with its
        copy made (else it is rejected, or held for a retry); a copy made for a candidate
        that is not admitted now is erased at once."""
        changes = Changes()
        results = {cid: copies.results.get(cid, CopyResult.failed) for cid in admitted(outcomes)}
        instead = instead_of_admissions(results)
        for cid, reason in instead.items():
            if reason is not None:
                log.warning("training_copy_refused", candidate_id=str(cid), reason=reason.value)
        changes.copy_retries += [cid for cid, reason in instead.items() if reason is None]
        changes.copies_withdrawn += [cid for cid in copies.results if cid not in results]
        stray = [copies.keys[cid] for cid, r in copies.results.items()
                 if r is CopyResult.copied and (cid not in results or cid in instead)]
        if stray:
            changes.erasure_jobs.append(ErasureJob(tuple(stray), "copy_not_admitted"))
        return (without_admissions(outcomes, instead) if instead else outcomes), changes


def _result(c: Candidate, result: bool | BaseException) -> CopyResult:
    if result is True:
        return CopyResult.copied
    if result is False:
        return CopyResult.source_missing
    if isinstance(result, UnusableSource):
        return CopyResult.source_unusable
    if not is_transient(result):  # held all the same: an error of our own shows in the log
        log.error("training_copy_error", candidate_id=str(c.candidate_id),
                  error_type=type(result).__name__)
    return CopyResult.failed


__all__ = ["Copies", "TrainingCopies", "admitted", "refuse_unbacked"]
