"""Dead letters: a record that could not be processed, with everything needed to replay it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from .base import Event, Name, StrictModel, UtcDatetime


class DeadLetterData(StrictModel):
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    source_topic: Annotated[str, StringConstraints(min_length=1, max_length=249)]
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=0)
    consumer_group: Name
    original_key: bytes | None = Field(default=None, description="Key bytes (base64 in JSON).")
    original_value: bytes = Field(description="Original value bytes (base64 in JSON).")
    error_type: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    error: Annotated[str, StringConstraints(min_length=1, max_length=4000)] = Field(
        description="Readable reason: which field failed and why."
    )
    attempts: int = Field(ge=1, default=1)
    failed_at: UtcDatetime


class DeadLetter(Event):
    """A message a consumer gave up on. The consumer went on with the next one."""

    EVENT_TYPE = "dead_letter"
    event_type: Literal["dead_letter"] = "dead_letter"
    schema_version: Literal[1] = 1
    data: DeadLetterData
