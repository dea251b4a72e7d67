"""What the use cases need from the outside world. Adapters implement these; the unit tests
use the in-memory fakes in `gemroll_suggester.fakes`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from gemroll_contracts import Event, SuggestionKind, Topic

from .domain import (
    ActionName,
    Consent,
    DerivedMedia,
    EventRecord,
    MediaItem,
    Moment,
    SuggestionRecord,
    SuggestionStatus,
)


@dataclass(frozen=True)
class Intake:
    """What deciding about a classified photo needs, read in one round trip."""

    consent: Consent | None
    removed: bool
    existing: MediaItem | None


@dataclass(frozen=True)
class Neighbourhood:
    """A user's photos near a moment, with the events they belong to."""

    moments: list[Moment]
    events: dict[UUID, EventRecord]


@dataclass(frozen=True)
class RenditionObject:
    """An object the suggester writes (or wrote) for an AI rendition of an original."""

    object_key: str
    bucket: str
    user_key: str
    original_media_id: UUID
    derived_media_id: UUID


@dataclass(frozen=True)
class PageCursor:
    """Position after the last item of a page (newest first)."""

    created_at: datetime
    suggestion_id: UUID


class Repository(Protocol):
    """The suggester's state, inside one transaction (see UnitOfWork)."""

    async def lock_user(self, user_key: str) -> None:
        """Serialise writers of one user's state until the transaction ends."""

    # consent and removed media
    async def consent(self, user_key: str) -> Consent | None: ...
    async def save_consent(self, consent: Consent) -> None: ...
    async def add_removed(self, user_key: str, media_ids: Sequence[UUID]) -> None: ...

    # media
    async def intake(self, user_key: str, media_id: UUID) -> Intake: ...
    async def get_media(self, media_ids: Sequence[UUID]) -> list[MediaItem]: ...
    async def save_media(self, item: MediaItem) -> None: ...
    async def delete_media(self, media_ids: Sequence[UUID]) -> None: ...
    async def neighbourhood(self, user_key: str, start: datetime,
                            end: datetime) -> Neighbourhood: ...
    async def save_placement(self, event: EventRecord, item: MediaItem) -> None:
        """Save the event and the photo placed in it (one round trip)."""
    async def media_of_event(self, event_id: UUID) -> list[MediaItem]: ...
    async def move_media(self, media_ids: Sequence[UUID] | None, from_events: Sequence[UUID],
                         to_event: UUID) -> None:
        """Re-home media (the given ones, or all of `from_events` when None) to `to_event`."""
    async def mark_unrenderable(self, media_ids: Sequence[UUID]) -> None: ...
    async def delete_user_media(self, user_key: str) -> None:
        """Drop every media item and event of the user (opt-out)."""

    # events
    async def get_events(self, event_ids: Sequence[UUID]) -> list[EventRecord]: ...
    async def save_event(self, event: EventRecord) -> None: ...
    async def delete_events(self, event_ids: Sequence[UUID]) -> None: ...
    async def claim_due_events(self, now: datetime, limit: int,
                               lease_until: datetime) -> list[EventRecord]: ...
    async def finish_event(self, event_id: UUID, version: int) -> bool:
        """Planned: clear dirty if still at `version`; False if it changed meanwhile."""
    async def release_event(self, event_id: UUID, retry_at: datetime | None = None) -> None:
        """Drop the lease (and with `retry_at`, count a failed attempt and retry then)."""
    async def count_open_events(self) -> int: ...

    # suggestions
    async def get_suggestion(self, suggestion_id: UUID) -> SuggestionRecord | None: ...
    async def suggestions_of_events(self, event_ids: Sequence[UUID]) -> list[SuggestionRecord]: ...
    async def suggestions_with_media(self, user_key: str,
                                     media_ids: Sequence[UUID]) -> list[SuggestionRecord]: ...
    async def suggestions_of_user(
        self, user_key: str, statuses: Sequence[SuggestionStatus]
    ) -> list[SuggestionRecord]: ...
    async def save_suggestion(self, suggestion: SuggestionRecord) -> None: ...
    async def delete_suggestion(self, suggestion_id: UUID) -> None: ...
    async def list_suggestions(
        self, user_key: str, *, status: SuggestionStatus | None, kind: SuggestionKind | None,
        limit: int, after: PageCursor | None,
    ) -> list[SuggestionRecord]: ...
    async def record_action(self, suggestion_id: UUID, action: ActionName, at: datetime) -> bool:
        """True when the action is new for this suggestion."""
    async def forget_action(self, suggestion_id: UUID, action: ActionName) -> None:
        """The action was undone (share ↔ unshare): it may be taken again."""

    # renditions
    async def get_derived(self, derived_media_id: UUID) -> DerivedMedia | None: ...
    async def save_derived(self, derived: DerivedMedia) -> None: ...
    async def derived_of_originals(self, media_ids: Sequence[UUID]) -> list[DerivedMedia]: ...
    async def delete_derived(self, derived_media_ids: Sequence[UUID]) -> None: ...
    async def record_rendition_object(self, obj: RenditionObject) -> None:
        """Note an object key before it is written (committed on its own, first), so that
        erasure and the orphan sweep find it even if the action's transaction never commits."""
    async def rendition_objects_of(self, user_key: str,
                                   original_media_ids: Sequence[UUID]) -> list[RenditionObject]: ...
    async def orphan_rendition_objects(self, older_than: datetime,
                                       limit: int) -> list[RenditionObject]:
        """Recorded objects no committed rendition (derived_media) refers to."""
    async def forget_rendition_objects(self, object_keys: Sequence[str]) -> None: ...

    # the transactional outbox
    async def add_outbox(self, topic: Topic, event: Event, key: str) -> None: ...


UnitOfWork = Callable[[], AbstractAsyncContextManager[Repository]]
"""`async with uow() as repo:` — one transaction; commits on success, rolls back on error."""


class MissingObject(LookupError):
    """The object does not exist in the store."""


class ObjectStorage(Protocol):
    bucket: str

    async def get(self, key: str, bucket: str | None = None) -> bytes:
        """The object's bytes; raises MissingObject when there is none."""
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def delete(self, keys: Sequence[str]) -> None:
        """Delete objects; missing ones are fine."""
    async def delete_prefix(self, prefix: str) -> None: ...


Clock = Callable[[], datetime]
