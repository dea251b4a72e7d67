"""The suggester's domain objects: plain data, no I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from gemroll_contracts import EditRecipe, SuggestionKind

from .framing import Box

NAMESPACE = UUID("6b1f3c4e-2a57-5d0e-9f1c-7e3a2b9d4c10")
"""uuid5 namespace of every id the suggester derives (events, suggestions, renditions)."""


def derived_id(*parts: object) -> UUID:
    """A deterministic id from its parts: redelivery and retries reproduce the same id."""
    return uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def event_id_for(founding_media_id: UUID) -> UUID:
    return derived_id("event", founding_media_id)


def suggestion_id_for(kind: SuggestionKind, anchor: UUID) -> UUID:
    """`edit` suggestions hang off a media item, `highlight` and `collage` off an event."""
    return derived_id(kind.value, anchor)


def rendition_id_for(suggestion_id: UUID, revision: int) -> UUID:
    return derived_id("rendition", suggestion_id, revision)


def candidate_id_for(derived_media_id: UUID) -> UUID:
    return derived_id("training-candidate", derived_media_id)


class SuggestionStatus(StrEnum):
    proposed = "proposed"
    edited = "edited"
    saved = "saved"
    shared = "shared"
    dismissed = "dismissed"
    withdrawn = "withdrawn"
    """Taken back by the suggester (user opted out, or its photos are gone); never acted on."""


class ActionName(StrEnum):
    save = "save"
    share = "share"
    edit = "edit"
    dismiss = "dismiss"
    unshare = "unshare"
    """Take a share back (only after `share`); `share` may follow again."""


@dataclass(frozen=True)
class MediaItem:
    """What the suggester keeps about one classified photo or video."""

    media_id: UUID
    user_key: str
    bucket: str
    object_key: str
    width: int
    height: int
    taken_at: datetime
    """Capture time, or the classification time when the photo has none."""
    coarse_location: str | None
    category: str
    quality_score: float | None
    """None when the classifier could not read the image."""
    duplicate_group: UUID | None
    is_best_in_group: bool
    nsfw_score: float | None
    face_count: int | None
    embedding: tuple[float, ...] | None
    gem_score: float
    is_gem: bool
    classified_event_id: UUID
    classified_at: datetime
    event_id: UUID | None = None
    unrenderable: bool = False
    media_kind: str = "photo"
    poster_key: str | None = None
    """A video's poster frame (a JPEG the ingest stored); None for photos."""
    best_moment: tuple[float, float] | None = None
    """A video's best 3-6 s (start, end seconds), as the classifier found it."""
    faces: tuple[Box, ...] | None = None
    """Face boxes (fractions of the image, largest first) from the classifier; None when not
    known (an older classification, a video). Crops keep them in frame."""

    @property
    def is_video(self) -> bool:
        return self.media_kind == "video"

    @property
    def picture_key(self) -> str | None:
        """The image that previews, collages and shares of it are made from."""
        return self.poster_key if self.is_video else self.object_key

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.width and self.height else 1.0

    @property
    def moment(self) -> Moment:
        """What grouping looks at."""
        return Moment(self.media_id, self.taken_at, self.coarse_location, self.event_id)

    def plan_fields(self) -> tuple[object, ...]:
        """The fields a plan depends on: a reclassification changing none of them is a no-op."""
        return (self.quality_score, self.duplicate_group, self.is_best_in_group, self.nsfw_score,
                self.face_count, self.embedding, self.gem_score, self.is_gem, self.taken_at,
                self.coarse_location, self.unrenderable, self.poster_key, self.best_moment,
                self.faces)


@dataclass(frozen=True)
class Moment:
    """The part of a media item that grouping looks at."""

    media_id: UUID
    taken_at: datetime
    coarse_location: str | None
    event_id: UUID | None = None


@dataclass(frozen=True)
class EventRecord:
    """A user's event: photos linked by capture time and place, planned once quiet."""

    event_id: UUID
    user_key: str
    start_at: datetime
    end_at: datetime
    version: int = 1
    dirty: bool = False
    due_at: datetime | None = None
    attempts: int = 0

    def extended(self, moment: datetime) -> EventRecord:
        return replace(self, start_at=min(self.start_at, moment), end_at=max(self.end_at, moment))

    def touched(self, due_at: datetime) -> EventRecord:
        """Something changed: plan again once `due_at` has passed (the quiet period)."""
        return replace(self, version=self.version + 1, dirty=True, due_at=due_at)


@dataclass(frozen=True)
class SuggestionRecord:
    suggestion_id: UUID
    user_key: str
    event_id: UUID | None
    kind: SuggestionKind
    revision: int
    media_ids: tuple[UUID, ...]
    title: str
    status: SuggestionStatus
    recipe: EditRecipe | None
    preview_object_key: str | None
    event_start: datetime | None
    event_end: datetime | None
    shareable: bool
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    stale: bool = False
    """Some of its photos were removed: its preview is gone and it must be planned again."""
    actions: frozenset[ActionName] = field(default_factory=frozenset)
    occasion: str | None = None
    """Why it is suggested now (`gemroll_contracts.ON_THIS_DAY`), else None."""


@dataclass(frozen=True)
class Consent:
    user_key: str
    camera_roll: bool
    ledger_seq: int
    changed_at: datetime


@dataclass(frozen=True)
class DerivedMedia:
    """A rendition the suggester made from an original (an applied AI edit)."""

    derived_media_id: UUID
    user_key: str
    original_media_id: UUID
    suggestion_id: UUID
    bucket: str
    object_key: str
    recipe: EditRecipe
    created_at: datetime


def fingerprint(kind: SuggestionKind, media_ids: tuple[UUID, ...], title: str,
                recipe: EditRecipe | None, shareable: bool) -> str:
    """What a suggestion shows; an unchanged fingerprint means no new revision."""
    body = json.dumps({
        "kind": kind.value,
        "media": [str(m) for m in media_ids],
        "title": title,
        "recipe": recipe.model_dump(mode="json") if recipe else None,
        "shareable": shareable,
    }, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def preview_key(user_key: str, suggestion_id: UUID, revision: int) -> str:
    return f"{suggestion_prefix(user_key, suggestion_id)}r{revision}.jpg"


def recap_key(user_key: str, suggestion_id: UUID, revision: int) -> str:
    """A highlight's recap movie, beside its preview (erased with the suggestion's prefix)."""
    return f"{suggestion_prefix(user_key, suggestion_id)}r{revision}.mp4"


def revision_objects(preview_object_key: str) -> list[str]:
    """What a revision may have stored: its preview and, for a highlight, its recap movie."""
    return [preview_object_key, preview_object_key.removesuffix(".jpg") + ".mp4"]


def suggestion_prefix(user_key: str, suggestion_id: UUID) -> str:
    return f"users/{user_key}/suggestions/{suggestion_id}/"


def derived_key(user_key: str, derived_media_id: UUID) -> str:
    return f"users/{user_key}/derived/{derived_media_id}.jpg"
