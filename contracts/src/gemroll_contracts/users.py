"""What users do: actions on media and suggestions, and consent changes."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Event, StrictModel, UserKey, UtcDatetime


class ActionKind(StrEnum):
    saved = "saved"
    shared = "shared"
    edited_with_ai = "edited_with_ai"
    dismissed = "dismissed"
    unshared = "unshared"
    media_deleted = "media_deleted"


class UserActionData(StrictModel):
    user_key: UserKey
    media_id: UUID
    action: ActionKind
    suggestion_id: UUID | None = None
    derived_media_id: UUID | None = Field(
        default=None, description="The rendition an AI edit produced, when there is one."
    )
    acted_at: UtcDatetime


class UserAction(Event):
    """A user acted on one media item (per item, also when acting on a multi-photo suggestion)."""

    EVENT_TYPE = "user.action"
    event_type: Literal["user.action"] = "user.action"
    schema_version: Literal[1] = 1
    data: UserActionData


class ConsentChangedData(StrictModel):
    user_key: UserKey
    camera_roll: bool = Field(description="Opted in to camera-roll uploads and suggestions.")
    training_opt_out: bool = Field(description="Opted out of any use for AI training.")
    erase_data: bool = Field(
        default=False, description="With camera_roll=false: erase all of the user's media."
    )
    ledger_seq: int = Field(ge=1, description="Position in the user's append-only consent ledger.")
    changed_at: UtcDatetime

    def supersedes(self, ledger_seq: int | None) -> bool:
        """This state replaces a stored one at `ledger_seq` (None: nothing stored): the
        highest ledger position wins, whatever order the events arrive in."""
        return ledger_seq is None or self.ledger_seq > ledger_seq


class ConsentChanged(Event):
    """The user's consent as it stands after a change (the full state, not a delta)."""

    EVENT_TYPE = "consent.changed"
    event_type: Literal["consent.changed"] = "consent.changed"
    schema_version: Literal[1] = 1
    data: ConsentChangedData
