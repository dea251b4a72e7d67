"""Parse any gemroll event from bytes, by its `event_type`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from .base import READ_EXTRA, READING
from .deadletter import DeadLetter
from .media import MediaClassified, MediaErased, MediaUploaded
from .suggestions import SuggestionCreated, SuggestionWithdrawn
from .training import TrainingAdmitted, TrainingCandidate, TrainingRejected, TrainingRetracted
from .users import ConsentChanged, UserAction

ALL_EVENTS = (
    MediaUploaded,
    MediaClassified,
    SuggestionCreated,
    SuggestionWithdrawn,
    UserAction,
    ConsentChanged,
    TrainingCandidate,
    TrainingAdmitted,
    TrainingRejected,
    TrainingRetracted,
    MediaErased,
    DeadLetter,
)

AnyEvent = Annotated[
    MediaUploaded
    | MediaClassified
    | SuggestionCreated
    | SuggestionWithdrawn
    | UserAction
    | ConsentChanged
    | TrainingCandidate
    | TrainingAdmitted
    | TrainingRejected
    | TrainingRetracted
    | MediaErased
    | DeadLetter,
    Field(discriminator="event_type"),
]

_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(raw: bytes | str) -> AnyEvent:
    """Validate JSON into the right event class, ignoring fields this version does not know
    (`READ_EXTRA`); raises pydantic.ValidationError."""
    return _ANY_EVENT.validate_json(raw, extra=READ_EXTRA, context=READING)
