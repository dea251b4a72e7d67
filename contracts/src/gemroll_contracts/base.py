"""The envelope every gemroll event travels in, and the strict types its fields use."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Final, Self
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
)


def _readers_ignore_unknown_fields(schema: dict[str, Any]) -> None:
    # Producers are strict, readers tolerant: the published schema must not refuse
    # the optional fields a later minor version adds.
    schema.pop("additionalProperties", None)


_STRICT = ConfigDict(
    extra="forbid", frozen=True, str_strip_whitespace=False,
    json_schema_extra=_readers_ignore_unknown_fields,
)

READ_EXTRA: Final = "ignore"
"""How records are read off the wire: fields unknown to this version are ignored, so a
compatible change (a new optional field) never breaks an older consumer. Building an event in
code stays strict (`extra="forbid"`), and a breaking change needs a new `schema_version`."""

READING: Final = {"gemroll_reading": True}
"""Validation context of every read: values a later version may add (a new content type)
are accepted, while building an event in code still refuses them (`reading`)."""


def reading(info: ValidationInfo) -> bool:
    """Whether this validation reads what another version wrote (see `READING`)."""
    return bool(info.context and info.context.get("gemroll_reading"))


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC. Naive datetimes are refused."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$"),
]
UserKey = Annotated[
    str,
    StringConstraints(min_length=32, max_length=64, pattern=r"^[0-9a-f]+$"),
    Field(
        description="Opaque, stable key of a user (keyed hash of the account id). "
        "Raw account ids never travel on Kafka.",
        examples=["4f1c2b9e8d7a6f5e4d3c2b1a09f8e7d6"],
    ),
]
Pseudonym = Annotated[
    str,
    StringConstraints(min_length=32, max_length=64, pattern=r"^[0-9a-f]+$"),
    Field(description="Training-data pseudonym: a keyed hash of the user id, with a secret "
          "distinct from the user key, so training data cannot be joined back to accounts."),
]
ObjectKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._-]*$"),
    Field(description="Key of an object in the media bucket, made by gemroll, never by users."),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
TraceId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{32}$"),
    Field(description="W3C trace id (32 lowercase hex digits) shared by all events of one flow."),
]
Geohash = Annotated[
    str,
    StringConstraints(min_length=1, max_length=5, pattern=r"^[0-9b-hjkmnp-z]+$"),
    Field(description="Coarse location as a geohash of at most 5 characters (about 5 km). "
          "Exact GPS never leaves the ingest service's private store."),
]


def new_trace_id() -> str:
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


class StrictModel(BaseModel):
    """Base for every contract model: instances are immutable, and building one with a field
    it does not know is an error. Reading from JSON (`Event.from_json`, `parse_event`) ignores
    unknown fields instead (`READ_EXTRA`)."""

    model_config = _STRICT

    @classmethod
    def read(cls, stored: Any) -> Self:
        """Validate a document this or another version wrote (a JSON column, a parsed record),
        ignoring fields this version does not know."""
        return cls.model_validate(stored, extra=READ_EXTRA, context=READING)


class Event(StrictModel):
    """The envelope: what every event on every gemroll topic carries.

    Concrete events fix `event_type` and `schema_version` and add a typed `data` payload.
    """

    EVENT_TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: UUID = Field(default_factory=uuid4, description="Unique id; consumers dedupe on it.")
    event_type: str
    schema_version: int
    occurred_at: UtcDatetime = Field(default_factory=utcnow, description="When it happened (UTC).")
    producer: Name = Field(description="The service that produced the event.", examples=["ingest"])
    trace_id: TraceId = Field(default_factory=new_trace_id)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        return cls.model_validate_json(raw, extra=READ_EXTRA, context=READING)


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def event_type_name(cls_name: str) -> str:
    """`MediaUploaded` -> `media_uploaded` (used in docs)."""
    return _SNAKE.sub("_", cls_name).lower()
