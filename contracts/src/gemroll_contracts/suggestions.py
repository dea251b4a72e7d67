"""Suggestions: the public API other teams subscribe to (`gemroll.suggestions.v1`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Event, ObjectKey, ShortText, StrictModel, UserKey, UtcDatetime


class SuggestionKind(StrEnum):
    edit = "edit"
    highlight = "highlight"
    collage = "collage"


class Crop(StrictModel):
    """Normalised crop box, 0..1 of the (orientation-corrected) original."""

    left: float = Field(ge=0, le=1)
    top: float = Field(ge=0, le=1)
    right: float = Field(ge=0, le=1)
    bottom: float = Field(ge=0, le=1)


class EditRecipe(StrictModel):
    """A reproducible auto-enhance recipe; applying it to the original gives the rendition."""

    version: Literal[1] = 1
    exposure: float = Field(ge=-2, le=2, description="Stops of exposure change.")
    contrast: float = Field(ge=0.5, le=2, description="Contrast factor.")
    saturation: float = Field(ge=0, le=2, description="Saturation factor.")
    white_balance: tuple[float, float, float] = Field(description="Per-channel RGB gains.")
    rotate_degrees: float = Field(ge=-45, le=45, description="Straighten angle.")
    crop: Crop | None = None


class SuggestionCreatedData(StrictModel):
    suggestion_id: UUID
    revision: int = Field(
        ge=1, description="Starts at 1; a higher revision of the same id replaces the earlier one "
        "(late photos update a suggestion instead of duplicating it)."
    )
    user_key: UserKey
    kind: SuggestionKind
    media_ids: list[UUID] = Field(min_length=1, max_length=9)
    title: ShortText
    preview_object_key: ObjectKey | None = None
    recipe: EditRecipe | None = Field(default=None, description="For `edit` suggestions.")
    event_start: UtcDatetime | None = None
    event_end: UtcDatetime | None = None
    created_at: UtcDatetime


class SuggestionCreated(Event):
    """A suggestion the user can save or share (created, or revised with `revision` > 1)."""

    EVENT_TYPE = "suggestion.created"
    event_type: Literal["suggestion.created"] = "suggestion.created"
    schema_version: Literal[1] = 1
    data: SuggestionCreatedData
