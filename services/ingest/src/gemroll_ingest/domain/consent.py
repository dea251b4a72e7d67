"""The ingest's view of a user's consent (projected from the policy service's events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ConsentState:
    user_key: str
    camera_roll: bool
    training_opt_out: bool
    ledger_seq: int
    changed_at: datetime


def allows_uploads(state: ConsentState | None) -> bool:
    """Uploads need an explicit camera-roll opt-in; no known state means no."""
    return state is not None and state.camera_roll


def supersedes(incoming: ConsentState, current: ConsentState | None) -> bool:
    """Events carry the full state; only a later ledger position replaces what we hold."""
    return current is None or incoming.ledger_seq > current.ledger_seq
