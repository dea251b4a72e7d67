"""Suggestions: the public API other teams subscribe to (`gemroll.suggestions.v1`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Event, Name, ObjectKey, ShortText, StrictModel, UserKey, UtcDatetime


class SuggestionKind(StrEnum):
    edit = "edit"
    highlight = "highlight"
    collage = "collage"


ON_THIS_DAY = "on_this_day"
"""`occasion` of a highlight that resurfaces an event from the same date in an earlier year."""


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
    occasion: Name | None = Field(
        default=None, description="Why it is suggested now, when not simply new photos: "
        "`on_this_day` (a highlight of an event from this date in an earlier year). Added in "
        "contracts 1.3.0; more values may come, so treat an unknown one like none.")


class SuggestionCreated(Event):
    """A suggestion the user can save or share (created, or revised with `revision` > 1).

    A revision replaces every earlier revision of the same `suggestion_id`: when a photo of
    it is deleted, a revision without that photo follows (or a `suggestion.withdrawn`, when
    too few photos remain); subscribers must drop what they kept of the earlier revision.
    """

    EVENT_TYPE = "suggestion.created"
    event_type: Literal["suggestion.created"] = "suggestion.created"
    schema_version: Literal[1] = 1
    data: SuggestionCreatedData


class WithdrawalReason(StrEnum):
    media_removed = "media_removed"
    """A photo it showed was deleted or erased, and too few photos remain."""
    opted_out = "opted_out"
    """The user switched camera-roll suggestions off."""
    superseded = "superseded"
    """Its event was merged into another one, whose suggestions cover the photos now."""
    no_longer_suggested = "no_longer_suggested"
    """The photos no longer qualify (reclassified, too few gems left)."""


class SuggestionWithdrawnData(StrictModel):
    suggestion_id: UUID
    revision: int = Field(
        ge=2, description="Higher than every revision published before for this id; a later "
        "`suggestion.created` with a still higher revision brings the suggestion back."
    )
    user_key: UserKey
    kind: SuggestionKind
    reason: WithdrawalReason
    withdrawn_at: UtcDatetime


class SuggestionWithdrawn(Event):
    """The suggestion is taken back: subscribers must stop showing it and delete what they
    kept of it (its media ids, title, preview key), e.g. `DELETE WHERE suggestion_id = ...
    AND revision < <this revision>`.

    Published on `gemroll.suggestions.v1` (added in contracts 1.1.0, a compatible change:
    subscribers dispatch on `event_type`). It carries no media ids on purpose: a withdrawal
    caused by a deleted photo must not repeat that photo's id. Compare revisions per
    `suggestion_id` across both event types; the highest one is the current state.
    """

    EVENT_TYPE = "suggestion.withdrawn"
    event_type: Literal["suggestion.withdrawn"] = "suggestion.withdrawn"
    schema_version: Literal[1] = 1
    data: SuggestionWithdrawnData
