"""Erasure: MediaErased (exactly the listed ids; an account erasure also the rest of the
inventory) and a user's whole account. Objects (and video posters) go first, then the rows'
content (exact GPS, hashes), their outbox rows and the uploads; only tombstones remain.
Idempotent; failures propagate so the consumer retries."""

from __future__ import annotations

from datetime import datetime

from gemroll_common.logging import get_logger
from gemroll_contracts import ErasureReason, MediaErased

from ..domain.erasure import account_erasure_cutoff
from ..ports import BlobStore, ConsentRepository, MediaRepository, UploadRepository

log = get_logger(__name__)


class Erasure:
    def __init__(self, *, media: MediaRepository, uploads: UploadRepository,
                 consent: ConsentRepository, blobs: BlobStore) -> None:
        self._media = media
        self._uploads = uploads
        self._consent = consent
        self._blobs = blobs

    async def erase(self, event: MediaErased) -> int:
        """Delete the objects, then keep only a tombstone of each record.

        An account erasure also erases media the policy service never heard of
        (unclassified, dead-lettered)."""
        d = event.data
        targets = await self._media.erasable(d.user_key, d.media_ids)
        for target in targets:
            for key in target.keys:
                await self._blobs.delete(key)
        account = d.reason is ErasureReason.account_erasure
        erased = await self._media.tombstone(d.user_key, [t.media_id for t in targets],
                                             account=account)
        if account:
            up_to = account_erasure_cutoff(d.erased_at, await self._consent.get(d.user_key))
            erased += await self.erase_account(d.user_key, up_to=up_to, trigger="media_erased")
        log.info("media_erased", count=erased, reason=d.reason.value)
        return erased

    async def erase_account(self, user_key: str, *, up_to: datetime | None = None,
                            trigger: str = "consent") -> int:
        """Erase every media item of the user (created at or before `up_to` when given)."""
        targets = await self._media.inventory(user_key, created_at_or_before=up_to)
        if up_to is None:
            # Everything under the user's media, poster and staging prefixes, listed or not.
            for kind in ("media", "posters", "uploads"):
                await self._blobs.delete_prefix(f"users/{user_key}/{kind}/")
        else:
            for target in targets:
                for key in target.keys:
                    await self._blobs.delete(key)
        erased = await self._media.tombstone(user_key, [t.media_id for t in targets],
                                             account=True)
        staging = await self._uploads.delete_for_user(user_key, created_at_or_before=up_to)
        if up_to is not None:  # else the prefix is already gone
            for key in staging:
                await self._blobs.delete(key)
        log.info("account_erased", count=erased, trigger=trigger, partial=up_to is not None)
        return erased
