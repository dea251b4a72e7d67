"""The consent ledger: read the current consent, append a change (and publish it).

A change is one transaction: the ledger entry, the current state, its audit entry and its
ConsentChanged event (the outbox) commit together; the gate carries the change out. The user
is answered once every service that projects consent acts on the change (read-your-writes:
an upload right after an opt-in is accepted, an action right after an opt-out refused)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gemroll_common.logging import get_logger
from gemroll_common.outbox import OutboxMessage
from gemroll_common.propagation import Applied
from gemroll_contracts import CONSENT, ConsentChanged, ConsentChangedData

from ..domain import AuditEntry, Consent, Pseudonymizer, first_consent
from ..domain.audit import timestamp
from ..ports import ChangePropagation, Changes, ConsentStore
from .rendering import PRODUCER

log = get_logger(__name__)


class ConsentError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConsentHandler:
    def __init__(self, store: ConsentStore, pseudonyms: Pseudonymizer,
                 clock: Callable[[], datetime], *,
                 propagation: ChangePropagation | None = None) -> None:
        self.store = store
        self.pseudonyms = pseudonyms
        self.clock = clock
        self.propagation = propagation

    async def current(self, user_key: str) -> Consent | None:
        return await self.store.current(user_key)

    async def change_in_effect(self, user_key: str, *, camera_roll: bool | None = None,
                               training_opt_out: bool | None = None,
                               erase_data: bool = False) -> tuple[Consent, Applied]:
        """`change`, answered once every service acts on the user's consent as it now stands
        (also when this call changed nothing: an earlier change may still be on its way)."""
        consent = await self.change(user_key, camera_roll=camera_roll,
                                    training_opt_out=training_opt_out, erase_data=erase_data)
        if self.propagation is None:
            return consent, Applied(in_effect=False, waiting_for=("untracked",))
        applied = await self.propagation.wait(user_key)
        if not applied.in_effect:
            log.warning("consent_not_yet_in_effect", waiting_for=list(applied.waiting_for),
                        ledger_seq=consent.ledger_seq)
        return consent, applied

    async def change(self, user_key: str, *, camera_roll: bool | None = None,
                     training_opt_out: bool | None = None, erase_data: bool = False) -> Consent:
        if camera_roll is None and training_opt_out is None and not erase_data:
            raise ConsentError("empty_change", "give camera_roll, training_opt_out or both")
        async with self.store.change(user_key) as uow:
            current = uow.current
            new_camera_roll = camera_roll if camera_roll is not None else (
                current.camera_roll if current else False)
            new_opt_out = training_opt_out if training_opt_out is not None else (
                current.training_opt_out if current else False)
            if erase_data and new_camera_roll:
                raise ConsentError("erase_requires_opt_out",
                                   "erase_data needs camera_roll=false: erasing your media "
                                   "comes with opting out of camera-roll suggestions")
            if (current is not None and not erase_data
                    and (current.camera_roll, current.training_opt_out)
                    == (new_camera_roll, new_opt_out)):
                return current  # nothing changes: the ledger records changes only
            now = self.clock()
            seq = (current.ledger_seq if current else 0) + 1
            consent = (current.followed_by(new_camera_roll, new_opt_out, seq, now) if current
                       else first_consent(new_camera_roll, new_opt_out, seq, now))
            event = ConsentChanged(producer=PRODUCER, data=ConsentChangedData(
                user_key=user_key, camera_roll=consent.camera_roll,
                training_opt_out=consent.training_opt_out, erase_data=erase_data,
                ledger_seq=consent.ledger_seq, changed_at=now))
            changes = Changes(
                messages=[OutboxMessage(CONSENT, user_key, event)],
                audit=[AuditEntry("consent_changed", self.pseudonyms.subject(user_key), {
                    "ledger_seq": consent.ledger_seq, "camera_roll": consent.camera_roll,
                    "training_opt_out": consent.training_opt_out, "erase_data": erase_data,
                    "changed_at": timestamp(now), "event_id": str(event.event_id)})],
            )
            await uow.append(user_key, consent, erase_data, event.event_id, changes)
        log.info("consent_changed", ledger_seq=consent.ledger_seq, camera_roll=consent.camera_roll,
                 training_opt_out=consent.training_opt_out, erase_data=erase_data)
        return consent


__all__ = ["ConsentError", "ConsentHandler"]
