"""The training copies of admitted images, made before the admission commits.

Every admitted image is first copied, metadata-free, to its training key
(`training/<subject>/<candidate id>`), which is all a training event names. The copies of a
unit of work run concurrently, `concurrency` at a time; nothing else waits for them:
rejections, retractions and erasures commit whatever the copies do. What a copy's result
means for its admission is the domain's rule (`domain.admissions`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
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
from ..ports import Changes, GateStore, TrainingObjects, UnusableSource

log = get_logger(__name__)


def refuse_unbacked(outcomes: list[Outcome]) -> list[Outcome]:
    """An admission without evidence is counted, and its candidate stays held instead. The
    rule never produces one; the alert on the metric says if it did."""
    kept, held = hold_unbacked(outcomes)
    for c in held:
        metrics.ADMISSIONS_WITHOUT_EVIDENCE.inc()
        log.error("admission_without_evidence_refused", candidate_id=str(c.candidate_id))
    return kept


class TrainingCopies:
    def __init__(self, store: GateStore, objects: TrainingObjects,
                 training_key: Callable[[str, UUID], str], clock: Callable[[], datetime],
                 concurrency: int) -> None:
        self.store = store
        self.objects = objects
        self.training_key = training_key
        self.clock = clock
        self.concurrency = concurrency

    async def admit(self, outcomes: list[Outcome], changes: Changes) -> list[Outcome]:
        """The outcomes once every admission has its training copy: admissions whose copy
        was not made are rejected or held instead (those held go to `changes.copy_retries`)."""
        outcomes = refuse_unbacked(outcomes)
        admitted = [o.candidate for o in outcomes
                    if isinstance(o, Decided) and isinstance(o.verdict, Admit)]
        if not admitted:
            return outcomes
        keys = {c.candidate_id: self.training_key(c.user_key, c.candidate_id) for c in admitted}
        await self.store.record_copies(list(keys.items()), self.clock())
        results = await self._copy(admitted, keys)
        for kind, n in Counter(results.values()).items():
            metrics.TRAINING_COPIES.labels(kind.value).inc(n)
        instead = instead_of_admissions(results)
        for cid, reason in instead.items():
            if reason is not None:
                log.warning("training_copy_refused", candidate_id=str(cid), reason=reason.value)
        changes.copy_retries += [cid for cid, reason in instead.items() if reason is None]
        return without_admissions(outcomes, instead) if instead else outcomes

    async def _copy(self, admitted: list[Candidate], keys: dict[UUID, str]
                    ) -> dict[UUID, CopyResult]:
        limit = asyncio.Semaphore(self.concurrency)

        async def copy(c: Candidate) -> bool:
            async with limit:
                return await self.objects.copy(c.bucket, c.object_key, keys[c.candidate_id])

        results = await asyncio.gather(*(copy(c) for c in admitted), return_exceptions=True)
        return {c.candidate_id: _result(c, r) for c, r in zip(admitted, results, strict=True)}


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


__all__ = ["TrainingCopies", "refuse_unbacked"]
