"""Erasure: forget media (for an account erasure, every result of the user) and keep
content-free tombstones of the ids, so a late classification of them stores nothing."""

from __future__ import annotations

from gemroll_common.logging import get_logger
from gemroll_contracts import ErasureReason, MediaErased

from ..ports import ResultStore

log = get_logger(__name__)


class EraseMedia:
    def __init__(self, store: ResultStore) -> None:
        self._store = store

    async def erase(self, event: MediaErased) -> int:
        """Returns how many stored results were removed. Idempotent."""
        d = event.data
        removed = await self._store.erase(d.user_key, d.media_ids,
                                          account=d.reason is ErasureReason.account_erasure)
        log.info("media_erased", media=len(d.media_ids), removed=removed, reason=d.reason.value)
        return removed
