"""What every use case is given (`Deps`), and the one way a changed suggestion is saved and
announced (`apply_change`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gemroll_contracts import SUGGESTIONS, Event, utcnow

from ..domain import Change
from ..ports import Clock, ObjectStorage, Transaction, UnitOfWork
from ..published import suggestion_created, suggestion_withdrawn
from ..settings import SuggesterSettings


@dataclass
class Deps:
    uow: UnitOfWork
    storage: ObjectStorage
    settings: SuggesterSettings
    clock: Clock = utcnow
    wake_planner: Callable[[], None] = field(default=lambda: None)


async def apply_change(tx: Transaction, change: Change) -> None:
    """Save (or delete) the changed suggestion and tell the public topic, in `tx`."""
    record = change.record
    if change.delete:
        await tx.suggestions.delete(record.suggestion_id)
    else:
        await tx.suggestions.save(record)
    event: Event
    if change.publish:
        event = suggestion_created(record)
    elif change.withdraw is not None:
        event = suggestion_withdrawn(record, change.withdraw, record.updated_at)
    else:
        return
    await tx.outbox.add(SUGGESTIONS, event, key=record.user_key,
                        subject_id=record.suggestion_id)

