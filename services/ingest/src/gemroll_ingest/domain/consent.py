"""The ingest's view of a user's consent (projected from the policy service's events).

Which of two states wins is the contract's rule (`ConsentChangedData.supersedes`: the highest
ledger position); the projection applies it atomically in its repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gemroll_contracts import ConsentChangedData


@dataclass(frozen=True)
class ConsentState:
    user_key: str
    camera_roll: bool
    training_opt_out: bool
    ledger_seq: int
    changed_at: datetime

    @classmethod
    def of(cls, data: ConsentChangedData) -> ConsentState:
        return cls(user_key=data.user_key, camera_roll=data.camera_roll,
                   training_opt_out=data.training_opt_out, ledger_seq=data.ledger_seq,
                   changed_at=data.changed_at)


def allows_uploads(state: ConsentState | None) -> bool:
    """Uploads need an explicit camera-roll opt-in; no known state means no."""
    return state is not None and state.camera_roll
