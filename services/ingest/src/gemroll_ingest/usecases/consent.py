"""The consent projection: ConsentChanged in, the user's current consent out; an opt-out that
asks for erasure erases the user's whole inventory."""

from __future__ import annotations

from gemroll_contracts import ConsentChanged

from ..domain import errors
from ..domain.consent import ConsentState, allows_uploads
from ..domain.erasure import erases_account, opt_out_cutoff
from ..ports import ConsentRepository
from .erasure import Erasure


async def require_consent(consent: ConsentRepository, user_key: str) -> None:
    """Uploads need the user's projected opt-in."""
    if not allows_uploads(await consent.get(user_key)):
        raise errors.ConsentRequired(
            "camera-roll uploads need the user's opt-in (consent camera_roll=true)")


class ConsentProjection:
    def __init__(self, consent: ConsentRepository, erasure: Erasure) -> None:
        self._consent = consent
        self._erasure = erasure

    async def project(self, event: ConsentChanged) -> bool:
        """Store the event's state if it supersedes the projected one; True when stored."""
        return await self._consent.apply(ConsentState.of(event.data))

    async def changed(self, event: ConsentChanged) -> None:
        """Project the consent; an opt-out with erase_data erases the user's whole inventory.

        Projecting first closes the door: the projection update waits for every upload whose
        acceptance holds the row FOR SHARE, and later acceptances see the opt-out and are
        refused. So everything accepted before the flip is in the inventory erased next.
        Idempotent: a redelivery projects nothing and erases what is left (nothing).
        """
        await self.project(event)
        if erases_account(event.data):
            current = await self._consent.get(event.data.user_key)
            await self._erasure.erase_account(event.data.user_key,
                                              up_to=opt_out_cutoff(event.data, current),
                                              trigger="consent")
