"""In-memory fakes of the suggester's ports, and builders of contract events and photos."""

from __future__ import annotations

import copy
import io
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from gemroll_common.errors import ObjectMissing, StoreRefused
from gemroll_contracts import (
    Category,
    Event,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Quality,
    SuggestionKind,
    Topic,
)
from gemroll_suggester.domain import (
    ActionName,
    Consent,
    DerivedMedia,
    EventRecord,
    MediaItem,
    Moment,
    SuggestionRecord,
    SuggestionStatus,
)
from gemroll_suggester.domain.sharing import ShareLink
from gemroll_suggester.ports import Intake, Neighbourhood, PageCursor, RenditionObject
from gemroll_suggester.settings import SuggesterSettings
from gemroll_suggester.usecases import Deps
from gemroll_testkit import photos

USER = "a" * 32
OTHER = "b" * 32
T0 = datetime(2026, 3, 14, 13, 0, tzinfo=UTC)  # a Saturday


@dataclass
class State:
    consent: dict[str, Consent] = field(default_factory=dict)
    removed: dict[UUID, str] = field(default_factory=dict)
    media: dict[UUID, MediaItem] = field(default_factory=dict)
    events: dict[UUID, EventRecord] = field(default_factory=dict)
    leases: dict[UUID, tuple[datetime, UUID]] = field(default_factory=dict)
    """event id -> (lease until, owner)"""
    suggestions: dict[UUID, SuggestionRecord] = field(default_factory=dict)
    actions: dict[tuple[UUID, ActionName], datetime] = field(default_factory=dict)
    derived: dict[UUID, DerivedMedia] = field(default_factory=dict)
    rendition_objects: dict[str, tuple[RenditionObject, datetime]] = field(default_factory=dict)
    outbox: list[tuple[str, Event, str]] = field(default_factory=list)
    share_links: dict[str, ShareLink] = field(default_factory=dict)
    locked_users: list[str] = field(default_factory=list)
    """User locks taken, in order, by committed transactions."""


class _Fake:
    """One repository of the fake transaction, on the shared State."""

    def __init__(self, state: State) -> None:
        self.s = state


class FakeConsent(_Fake):
    async def get(self, user_key: str) -> Consent | None:
        return self.s.consent.get(user_key)

    async def save(self, consent: Consent) -> None:
        self.s.consent[consent.user_key] = consent


class FakeMedia(_Fake):
    async def intake(self, user_key: str, media_id: UUID) -> Intake:
        return Intake(self.s.consent.get(user_key), self.s.removed.get(media_id) == user_key,
                      self.s.media.get(media_id))

    async def add_removed(self, user_key: str, media_ids: Sequence[UUID]) -> None:
        for m in media_ids:
            self.s.removed.setdefault(m, user_key)

    async def get(self, media_ids: Sequence[UUID]) -> list[MediaItem]:
        return [self.s.media[m] for m in media_ids if m in self.s.media]

    async def save(self, item: MediaItem) -> None:
        self.s.media[item.media_id] = item

    async def delete(self, media_ids: Sequence[UUID]) -> None:
        for m in media_ids:
            self.s.media.pop(m, None)

    async def neighbourhood(self, user_key: str, start: datetime,
                            end: datetime) -> Neighbourhood:
        found = [m for m in self.s.media.values()
                 if m.user_key == user_key and start <= m.taken_at <= end]
        found.sort(key=lambda m: (m.taken_at, str(m.media_id)))
        events = {m.event_id: self.s.events[m.event_id] for m in found
                  if m.event_id in self.s.events}
        return Neighbourhood(
            [Moment(m.media_id, m.taken_at, m.coarse_location, m.event_id) for m in found], events)

    async def save_placement(self, event: EventRecord, item: MediaItem) -> None:
        self.s.events[event.event_id] = event
        self.s.media[item.media_id] = item

    async def of_event(self, event_id: UUID) -> list[MediaItem]:
        found = [m for m in self.s.media.values() if m.event_id == event_id]
        return sorted(found, key=lambda m: (m.taken_at, str(m.media_id)))

    async def move(self, media_ids: Sequence[UUID] | None, from_events: Sequence[UUID],
                   to_event: UUID) -> None:
        for m in list(self.s.media.values()):
            if m.event_id in from_events and (media_ids is None or m.media_id in media_ids):
                self.s.media[m.media_id] = replace(m, event_id=to_event)

    async def mark_unrenderable(self, media_ids: Sequence[UUID]) -> None:
        for m in media_ids:
            if m in self.s.media:
                self.s.media[m] = replace(self.s.media[m], unrenderable=True)

    async def delete_user_media(self, user_key: str) -> None:
        for m in [m for m in self.s.media.values() if m.user_key == user_key]:
            del self.s.media[m.media_id]
        for e in [e for e in self.s.events.values() if e.user_key == user_key]:
            del self.s.events[e.event_id]


class FakeEvents(_Fake):
    async def get(self, event_ids: Sequence[UUID]) -> list[EventRecord]:
        return [self.s.events[e] for e in event_ids if e in self.s.events]

    async def save(self, event: EventRecord) -> None:
        self.s.events[event.event_id] = event

    async def delete(self, event_ids: Sequence[UUID]) -> None:
        for e in event_ids:
            self.s.events.pop(e, None)
            for m in list(self.s.media.values()):
                if m.event_id == e:
                    self.s.media[m.media_id] = replace(m, event_id=None)

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime,
                        owner: UUID) -> list[EventRecord]:
        due = [e for e in self.s.events.values() if e.dirty and e.due_at and e.due_at <= now
               and (e.event_id not in self.s.leases or self.s.leases[e.event_id][0] < now)]
        due.sort(key=lambda e: (e.due_at, str(e.event_id)))
        for e in due[:limit]:
            self.s.leases[e.event_id] = (lease_until, owner)
        return due[:limit]

    async def renew(self, event_ids: Sequence[UUID], owner: UUID,
                    lease_until: datetime) -> set[UUID]:
        held = {e for e in event_ids if self.s.leases.get(e, (None, None))[1] == owner}
        for e in held:
            self.s.leases[e] = (lease_until, owner)
        return held

    async def holds(self, event_id: UUID, owner: UUID) -> bool:
        return self.s.leases.get(event_id, (None, None))[1] == owner

    async def finish(self, event_id: UUID, version: int) -> bool:
        e = self.s.events.get(event_id)
        if e is None or e.version != version:
            return False
        self.s.events[event_id] = replace(e, dirty=False, due_at=None, attempts=0)
        self.s.leases.pop(event_id, None)
        return True

    async def release(self, event_id: UUID, retry_at: datetime | None = None) -> None:
        self.s.leases.pop(event_id, None)
        e = self.s.events.get(event_id)
        if e is not None and retry_at is not None:
            self.s.events[event_id] = replace(e, attempts=e.attempts + 1,
                                              due_at=max(e.due_at or retry_at, retry_at))

    async def count_open(self) -> int:
        return sum(e.dirty for e in self.s.events.values())

    async def on_calendar_day(self, month: int, day: int, before: datetime,
                              limit: int) -> list[EventRecord]:
        found = [e for e in self.s.events.values() if e.start_at < before
                 and (e.start_at.astimezone(UTC).month, e.start_at.astimezone(UTC).day)
                 == (month, day)]
        return sorted(found, key=lambda e: (e.user_key, e.start_at))[:limit]


class FakeSuggestions(_Fake):
    def _with_actions(self, s: SuggestionRecord) -> SuggestionRecord:
        done = frozenset(a for (sid, a) in self.s.actions if sid == s.suggestion_id)
        return replace(s, actions=done)

    def _sorted(self) -> list[SuggestionRecord]:
        return sorted(self.s.suggestions.values(), key=lambda s: str(s.suggestion_id))

    async def get(self, suggestion_id: UUID) -> SuggestionRecord | None:
        s = self.s.suggestions.get(suggestion_id)
        return self._with_actions(s) if s else None

    async def of_events(self, event_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        return [self._with_actions(s) for s in self._sorted() if s.event_id in event_ids]

    async def with_media(self, user_key: str,
                         media_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        return [self._with_actions(s) for s in self._sorted()
                if s.user_key == user_key and set(s.media_ids) & set(media_ids)]

    async def of_user(self, user_key: str,
                      statuses: Sequence[SuggestionStatus]) -> list[SuggestionRecord]:
        return [self._with_actions(s) for s in self.s.suggestions.values()
                if s.user_key == user_key and s.status in statuses]

    async def save(self, suggestion: SuggestionRecord) -> None:
        self.s.suggestions[suggestion.suggestion_id] = replace(suggestion, actions=frozenset())

    async def delete(self, suggestion_id: UUID) -> None:
        self.s.suggestions.pop(suggestion_id, None)
        for key in [k for k in self.s.actions if k[0] == suggestion_id]:
            del self.s.actions[key]

    async def page(self, user_key: str, *, status: SuggestionStatus | None,
                   kind: SuggestionKind | None, limit: int,
                   after: PageCursor | None) -> list[SuggestionRecord]:
        rows = [s for s in self.s.suggestions.values() if s.user_key == user_key
                and (s.status == status if status else s.status is not SuggestionStatus.withdrawn)
                and (kind is None or s.kind == kind)]
        rows.sort(key=lambda s: (s.created_at, str(s.suggestion_id)), reverse=True)
        if after is not None:
            rows = [s for s in rows
                    if (s.created_at, str(s.suggestion_id)) < (after.created_at,
                                                                str(after.suggestion_id))]
        return [self._with_actions(s) for s in rows[:limit]]

    async def record_action(self, suggestion_id: UUID, action: ActionName, at: datetime) -> bool:
        if (suggestion_id, action) in self.s.actions:
            return False
        self.s.actions[(suggestion_id, action)] = at
        return True

    async def forget_action(self, suggestion_id: UUID, action: ActionName) -> None:
        self.s.actions.pop((suggestion_id, action), None)


class FakeRenditions(_Fake):
    async def get(self, derived_media_id: UUID) -> DerivedMedia | None:
        return self.s.derived.get(derived_media_id)

    async def save(self, derived: DerivedMedia) -> None:
        self.s.derived.setdefault(derived.derived_media_id, derived)

    async def of_originals(self, media_ids: Sequence[UUID]) -> list[DerivedMedia]:
        return [d for d in self.s.derived.values() if d.original_media_id in media_ids]

    async def delete(self, derived_media_ids: Sequence[UUID]) -> None:
        for d in derived_media_ids:
            self.s.derived.pop(d, None)

    async def record_object(self, obj: RenditionObject) -> None:
        self.s.rendition_objects[obj.object_key] = (obj, datetime.now(UTC))

    async def objects_of(self, user_key: str,
                         original_media_ids: Sequence[UUID]) -> list[RenditionObject]:
        return [o for o, _ in self.s.rendition_objects.values()
                if o.user_key == user_key and o.original_media_id in original_media_ids]

    async def orphan_objects(self, older_than: datetime, limit: int) -> list[RenditionObject]:
        used = {d.object_key for d in self.s.derived.values()}
        return [o for o, at in self.s.rendition_objects.values()
                if at < older_than and o.object_key not in used][:limit]

    async def forget_objects(self, object_keys: Sequence[str]) -> None:
        for k in object_keys:
            self.s.rendition_objects.pop(k, None)


class FakeShareLinks(_Fake):
    async def add(self, link: ShareLink) -> None:
        assert link.token not in self.s.share_links
        self.s.share_links[link.token] = link

    async def get(self, token: str) -> ShareLink | None:
        link = self.s.share_links.get(token)
        return link if link and link.suggestion_id in self.s.suggestions else None

    def _live(self, now: datetime) -> list[ShareLink]:
        return sorted((x for x in self.s.share_links.values()
                       if x.live(now) and x.suggestion_id in self.s.suggestions),
                      key=lambda x: x.created_at, reverse=True)

    async def live_of_suggestion(self, suggestion_id: UUID, now: datetime) -> ShareLink | None:
        return next((x for x in self._live(now) if x.suggestion_id == suggestion_id), None)

    async def live_of_user(self, user_key: str, now: datetime) -> list[ShareLink]:
        return [x for x in self._live(now) if x.user_key == user_key]

    def _revoke(self, which: Callable[[ShareLink], bool], now: datetime) -> int:
        hit = [x for x in self.s.share_links.values() if which(x) and x.revoked_at is None]
        for x in hit:
            self.s.share_links[x.token] = replace(x, revoked_at=now)
        return len(hit)

    async def revoke(self, suggestion_id: UUID, now: datetime) -> int:
        return self._revoke(lambda x: x.suggestion_id == suggestion_id, now)

    async def revoke_of_user(self, user_key: str, now: datetime) -> int:
        return self._revoke(lambda x: x.user_key == user_key, now)

    async def delete_of_user(self, user_key: str) -> None:
        for token in [t for t, x in self.s.share_links.items() if x.user_key == user_key]:
            del self.s.share_links[token]


class FakeOutbox(_Fake):
    async def add(self, topic: Topic, event: Event, *, key: str,
                  subject_id: UUID | None = None) -> None:
        assert topic.accepts(event)
        self.s.outbox.append((topic.name, event, key))


class FakeTransaction:
    """Same behaviour as the PostgreSQL transaction, on a State."""

    def __init__(self, state: State) -> None:
        self.consent = FakeConsent(state)
        self.media = FakeMedia(state)
        self.events = FakeEvents(state)
        self.suggestions = FakeSuggestions(state)
        self.renditions = FakeRenditions(state)
        self.share_links = FakeShareLinks(state)
        self.outbox = FakeOutbox(state)

    async def lock_user(self, user_key: str) -> None:
        self.media.s.locked_users.append(user_key)


class FakeUnitOfWork:
    """Transactions on a copy of the state: committed on success, dropped on error."""

    def __init__(self) -> None:
        self.state = State()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeTransaction]:
        working = copy.deepcopy(self.state)
        yield FakeTransaction(working)
        self.state = working


class FakeStorage:
    bucket = "gemroll-media"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail = False

    async def get(self, key: str, bucket: str | None = None) -> bytes:
        if self.fail:
            raise OSError("storage down")
        if key not in self.objects:
            raise ObjectMissing(key)
        return self.objects[key]

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail:
            raise OSError("storage down")
        self.objects[key] = data

    async def download(self, key: str, path: str, bucket: str | None = None,
                       max_bytes: int | None = None) -> int:
        data = await self.get(key, bucket)
        if max_bytes is not None and len(data) > max_bytes:
            raise StoreRefused(f"over {max_bytes} bytes")
        return Path(path).write_bytes(data)  # noqa: ASYNC240 - a test's small file

    async def delete(self, keys: Sequence[str]) -> None:
        if self.fail:
            raise OSError("storage down")
        for k in keys:
            self.objects.pop(k, None)

    async def delete_prefix(self, prefix: str) -> None:
        if self.fail:
            raise OSError("storage down")
        for k in [k for k in self.objects if k.startswith(prefix)]:
            del self.objects[k]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    deps: Deps
    uow: FakeUnitOfWork
    storage: FakeStorage
    clock: Clock

    @property
    def state(self) -> State:
        return self.uow.state

    def suggestions(self, kind: SuggestionKind | None = None,
                    user: str = USER) -> list[SuggestionRecord]:
        return [s for s in self.state.suggestions.values()
                if s.user_key == user and (kind is None or s.kind is kind)]

    def published(self, topic_prefix: str) -> list[Any]:
        return [e for (t, e, _) in self.state.outbox if t.startswith(topic_prefix)]


@pytest.fixture
def world() -> World:
    uow, storage = FakeUnitOfWork(), FakeStorage()
    clock = Clock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    settings = SuggesterSettings(quiet_seconds=60, highlight_min=3, collage_min=2,
                                 edits_per_event=2, preview_max_side=320, collage_width=480,
                                 cover_width=400)
    return World(Deps(uow, storage, settings, clock), uow, storage, clock)


def jpeg_bytes(seed: int, width: int = 240, height: int = 160, **scene: Any) -> bytes:
    return photos.jpeg(photos.render(photos.Scene(width=width, height=height, seed=seed,
                                                  **scene)))


def embedding(seed: int, dims: int = 8) -> list[float]:
    import random

    rng = random.Random(seed)
    v = [rng.gauss(0, 1) for _ in range(dims)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


def classified(
    *, user: str = USER, media_id: UUID | None = None, minutes: float = 0,
    where: str | None = "eycs0",
    gem: bool = True, gem_score: float = 0.8, nsfw: float | None = 0.01, seed: int = 0,
    group: UUID | None = None, best: bool = True, sharpness: float = 0.8, faces: int | None = 0,
    width: int = 240, height: int = 160, category: Category = Category.photo,
    occurred_at: datetime | None = None, emb: list[float] | None = None, key: str | None = None,
) -> MediaClassified:
    media_id = media_id or uuid.uuid4()
    extra = {"occurred_at": occurred_at} if occurred_at else {}
    return MediaClassified(
        producer="classifier", **extra,
        data=MediaClassifiedData(
            media_id=media_id, user_key=user, bucket="gemroll-media",
            object_key=key or f"users/{user}/media/{media_id}.jpg", width=width, height=height,
            captured_at=T0 + timedelta(minutes=minutes), coarse_location=where,
            category=category,
            quality=Quality(sharpness=sharpness, exposure=0.8, noise=0.1, brightness=0.5),
            duplicate_group=group, is_best_in_group=best, nsfw_score=nsfw, face_count=faces,
            embedding=emb if emb is not None else embedding(seed), gem_score=gem_score,
            is_gem=gem, model=ModelInfo(name="test", version="1"),
        ),
    )


def put_original(world: World, event: MediaClassified, seed: int = 0, **scene: Any) -> None:
    d = event.data
    world.storage.objects[d.object_key] = jpeg_bytes(seed, d.width, d.height, **scene)


def image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(data)).size


@pytest.fixture
def kit() -> Any:
    """The builders above, for test modules (which cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(USER=USER, OTHER=OTHER, T0=T0, classified=classified,
                           put_original=put_original, jpeg_bytes=jpeg_bytes,
                           embedding=embedding, image_size=image_size, Clock=Clock)
