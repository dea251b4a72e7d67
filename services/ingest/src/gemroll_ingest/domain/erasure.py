"""How much of a user's inventory an erasure takes: everything, or only what existed when it
was asked for (photos uploaded after a later opt-in stay)."""

from __future__ import annotations

from datetime import datetime

from gemroll_contracts import ConsentChangedData

from .consent import ConsentState, allows_uploads


def erases_account(change: ConsentChangedData) -> bool:
    """An opt-out that asks for the data to go."""
    return change.erase_data and not change.camera_roll


def opt_out_cutoff(change: ConsentChangedData, current: ConsentState | None) -> datetime | None:
    """The erasure of an opt-out: everything (None), unless a newer ledger position is already
    projected (say, an opt-in after this request): then only what existed at the request."""
    newer = current is not None and current.ledger_seq > change.ledger_seq
    return change.changed_at if newer else None


def account_erasure_cutoff(erased_at: datetime, current: ConsentState | None) -> datetime | None:
    """A MediaErased account erasure: everything (None), unless the user has opted in again
    since; then only what existed when it was erased."""
    return erased_at if allows_uploads(current) else None
