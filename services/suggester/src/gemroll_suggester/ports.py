"""What the use cases need from the outside world: the state behind a unit of work (one
repository per aggregate) and the object store. Adapters implement these; the unit tests use
the in-memory fakes in `tests/unit/suggester/conftest.py`."""

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
from .domain.sharing import ShareLink


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


class ConsentRepository(Protocol):
    async def get(self, user_key: str) -> Consent | None: ...
    async def save(self, consent: Consent) -> None: ...


class MediaRepository(Protocol):
    """Classified photos, the ones removed for good, and their place in events."""

    async def intake(self, user_key: str, media_id: UUID) -> Intake: ...
    async def add_removed(self, user_key: str, media_ids: Sequence[UUID]) -> None: ...
    async def get(self, media_ids: Sequence[UUID]) -> list[MediaItem]: ...
    async def save(self, item: MediaItem) -> None: ...
    async def delete(self, media_ids: Sequence[UUID]) -> None: ...
    async def neighbourhood(self, user_key: str, start: datetime,
                            end: datetime) -> Neighbourhood: ...
    async def save_placement(self, event: EventRecord, item: MediaItem) -> None:
        """Save the event and the photo placed in it (one round trip)."""
    async def of_event(self, event_id: UUID) -> list[MediaItem]: ...
    async def move(self, media_ids: Sequence[UUID] | None, from_events: Sequence[UUID],
                   to_event: UUID) -> None:
        """Re-home media (the given ones, or all of `from_events` when None) to `to_event`."""
    async def mark_unrenderable(self, media_ids: Sequence[UUID]) -> None: ...
    async def delete_user_media(self, user_key: str) -> None:
        """Drop every media item and event of the user (opt-out)."""


class EventRepository(Protocol):
    async def get(self, event_ids: Sequence[UUID]) -> list[EventRecord]: ...
    async def save(self, event: EventRecord) -> None: ...
    async def delete(self, event_ids: Sequence[UUID]) -> None: ...
    async def claim_due(self, now: datetime, limit: int, lease_until: datetime,
                        owner: UUID) -> list[EventRecord]:
        """Lease due events not leased by a live owner (an expired lease is taken over)."""
    async def renew(self, event_ids: Sequence[UUID], owner: UUID,
                    lease_until: datetime) -> set[UUID]:
        """Extend `owner`'s leases; returns the events it still holds."""
    async def holds(self, event_id: UUID, owner: UUID) -> bool:
        """Whether `owner` still holds the lease (locks the row until the transaction ends,
        so the lease cannot be taken over before the plan commits)."""
    async def finish(self, event_id: UUID, version: int) -> bool:
        """Planned: clear dirty if still at `version`; False if it changed meanwhile."""
    async def release(self, event_id: UUID, retry_at: datetime | None = None) -> None:
        """Drop the lease (and with `retry_at`, count a failed attempt and retry then)."""
    async def count_open(self) -> int: ...
    async def on_calendar_day(self, month: int, day: int, before: datetime,
                              limit: int) -> list[EventRecord]:
        """Events of every user that started on this month and day (UTC), before `before`."""


class SuggestionRepository(Protocol):
    """Suggestions with the actions taken on them."""

    async def get(self, suggestion_id: UUID) -> SuggestionRecord | None: ...
    async def of_events(self, event_ids: Sequence[UUID]) -> list[SuggestionRecord]: ...
    async def with_media(self, user_key: str,
                         media_ids: Sequence[UUID]) -> list[SuggestionRecord]: ...
    async def of_user(self, user_key: str,
                      statuses: Sequence[SuggestionStatus]) -> list[SuggestionRecord]: ...
    async def save(self, suggestion: SuggestionRecord) -> None: ...
    async def delete(self, suggestion_id: UUID) -> None: ...
    async def page(
        self, user_key: str, *, status: SuggestionStatus | None, kind: SuggestionKind | None,
        limit: int, after: PageCursor | None,
    ) -> list[SuggestionRecord]: ...
    async def record_action(self, suggestion_id: UUID, action: ActionName, at: datetime) -> bool:
        """True when the action is new for this suggestion."""
    async def forget_action(self, suggestion_id: UUID, action: ActionName) -> None:
        """The action was undone (share ↔ unshare): it may be taken again."""


class RenditionRepository(Protocol):
    """AI renditions (derived media) and the record of every object written for one."""

    async def get(self, derived_media_id: UUID) -> DerivedMedia | None: ...
    async def save(self, derived: DerivedMedia) -> None: ...
    async def of_originals(self, media_ids: Sequence[UUID]) -> list[DerivedMedia]: ...
    async def delete(self, derived_media_ids: Sequence[UUID]) -> None: ...
    async def record_object(self, obj: RenditionObject) -> None:
        """Note an object key before it is written (committed on its own, first), so that
        erasure and the orphan sweep find it even if the action's transaction never commits."""
    async def objects_of(self, user_key: str,
                         original_media_ids: Sequence[UUID]) -> list[RenditionObject]: ...
    async def orphan_objects(self, older_than: datetime, limit: int) -> list[RenditionObject]:
        """Recorded objects no committed rendition (derived_media) refers to."""
    async def forget_objects(self, object_keys: Sequence[str]) -> None: ...


class ShareLinkRepository(Protocol):
    """Public links to shared suggestions (`domain.sharing`)."""

    async def add(self, link: ShareLink) -> None: ...
    async def get(self, token: str) -> ShareLink | None: ...
    async def live_of_suggestion(self, suggestion_id: UUID,
                                 now: datetime) -> ShareLink | None: ...
    async def live_of_user(self, user_key: str, now: datetime) -> list[ShareLink]: ...
    async def revoke(self, suggestion_id: UUID, now: datetime) -> int:
        """Revoke every live link of the suggestion; returns how many."""
    async def revoke_of_user(self, user_key: str, now: datetime) -> int: ...
    async def delete_of_user(self, user_key: str) -> None: ...


class Outbox(Protocol):
    async def add(self, topic: Topic, event: Event, *, key: str,
                  subject_id: UUID | None = None) -> None:
        """Publish `event` once the transaction commits (`subject_id`: what it is about)."""


class Transaction(Protocol):
    """The suggester's state inside one transaction (see UnitOfWork)."""

    consent: ConsentRepository
    media: MediaRepository
    events: EventRepository
    suggestions: SuggestionRepository
    renditions: RenditionRepository
    share_links: ShareLinkRepository
    outbox: Outbox

    async def lock_user(self, user_key: str) -> None:
        """Serialise writers of one user's state until the transaction ends."""


UnitOfWork = Callable[[], AbstractAsyncContextManager[Transaction]]
"""`async with uow() as tx:` — one transaction; commits on success, rolls back on error."""


class ObjectStorage(Protocol):
    bucket: str

    async def get(self, key: str, bucket: str | None = None) -> bytes:
        """The object's bytes; raises `gemroll_common.errors.ObjectMissing` when there is
        none (and the store's other typed errors)."""
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def download(self, key: str, path: str, bucket: str | None = None,
                       max_bytes: int | None = None) -> int:
        """Stream the object into the file at `path`; its size (`StoreRefused` over
        `max_bytes`)."""
    async def delete(self, keys: Sequence[str]) -> None:
        """Delete objects; missing ones are fine. Raises `StoreUnavailable` (transient) when
        some could not be deleted this time: the caller retries the whole removal."""
    async def delete_prefix(self, prefix: str) -> None: ...


Clock = Callable[[], datetime]
