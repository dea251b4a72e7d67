"""The Repository on PostgreSQL (asyncpg): one connection, one transaction per unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from gemroll_contracts import EditRecipe, Event, Service, SuggestionKind, Topic

from ..domain import (
    ActionName,
    Consent,
    DerivedMedia,
    EventRecord,
    MediaItem,
    Moment,
    SuggestionRecord,
    SuggestionStatus,
)
from ..ports import Intake, Neighbourhood, PageCursor, RenditionObject, Repository

_MEDIA_COLUMNS = (
    "media_id, user_key, event_id, bucket, object_key, width, height, taken_at, coarse_location, "
    "category, quality_score, duplicate_group, is_best_in_group, nsfw_score, face_count, "
    "embedding, gem_score, is_gem, classified_event_id, classified_at, unrenderable"
)
_MEDIA_UPSERT = (
    f"INSERT INTO media ({_MEDIA_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) "
    "ON CONFLICT (media_id) DO UPDATE SET event_id = EXCLUDED.event_id, "
    "bucket = EXCLUDED.bucket, object_key = EXCLUDED.object_key, width = EXCLUDED.width, "
    "height = EXCLUDED.height, taken_at = EXCLUDED.taken_at, "
    "coarse_location = EXCLUDED.coarse_location, category = EXCLUDED.category, "
    "quality_score = EXCLUDED.quality_score, duplicate_group = EXCLUDED.duplicate_group, "
    "is_best_in_group = EXCLUDED.is_best_in_group, nsfw_score = EXCLUDED.nsfw_score, "
    "face_count = EXCLUDED.face_count, embedding = EXCLUDED.embedding, "
    "gem_score = EXCLUDED.gem_score, is_gem = EXCLUDED.is_gem, "
    "classified_event_id = EXCLUDED.classified_event_id, "
    "classified_at = EXCLUDED.classified_at, unrenderable = EXCLUDED.unrenderable"
)
_SUGGESTION_SELECT = (
    "SELECT s.*, COALESCE((SELECT array_agg(a.action) FROM suggestion_actions a "
    "WHERE a.suggestion_id = s.suggestion_id), '{}') AS actions FROM suggestions s"
)
_EVENT_COLUMNS = "event_id, user_key, start_at, end_at, version, dirty, due_at, attempts"


def _media(row: asyncpg.Record) -> MediaItem:
    embedding = row["embedding"]
    return MediaItem(
        media_id=row["media_id"], user_key=row["user_key"], bucket=row["bucket"],
        object_key=row["object_key"], width=row["width"], height=row["height"],
        taken_at=row["taken_at"], coarse_location=row["coarse_location"],
        category=row["category"], quality_score=row["quality_score"],
        duplicate_group=row["duplicate_group"], is_best_in_group=row["is_best_in_group"],
        nsfw_score=row["nsfw_score"], face_count=row["face_count"],
        embedding=tuple(embedding) if embedding is not None else None,
        gem_score=row["gem_score"], is_gem=row["is_gem"],
        classified_event_id=row["classified_event_id"], classified_at=row["classified_at"],
        event_id=row["event_id"], unrenderable=row["unrenderable"],
    )


def _event(row: asyncpg.Record) -> EventRecord:
    return EventRecord(
        event_id=row["event_id"], user_key=row["user_key"], start_at=row["start_at"],
        end_at=row["end_at"], version=row["version"], dirty=row["dirty"], due_at=row["due_at"],
        attempts=row["attempts"],
    )


def _suggestion(row: asyncpg.Record) -> SuggestionRecord:
    recipe = row["recipe"]
    return SuggestionRecord(
        suggestion_id=row["suggestion_id"], user_key=row["user_key"], event_id=row["event_id"],
        kind=SuggestionKind(row["kind"]), revision=row["revision"],
        media_ids=tuple(row["media_ids"]), title=row["title"],
        status=SuggestionStatus(row["status"]),
        recipe=EditRecipe.model_validate(recipe) if recipe is not None else None,
        preview_object_key=row["preview_object_key"], event_start=row["event_start"],
        event_end=row["event_end"], shareable=row["shareable"], fingerprint=row["fingerprint"],
        created_at=row["created_at"], updated_at=row["updated_at"], stale=row["stale"],
        actions=frozenset(ActionName(a) for a in row["actions"]),
    )


def _derived(row: asyncpg.Record) -> DerivedMedia:
    return DerivedMedia(
        derived_media_id=row["derived_media_id"], user_key=row["user_key"],
        original_media_id=row["original_media_id"], suggestion_id=row["suggestion_id"],
        bucket=row["bucket"], object_key=row["object_key"],
        recipe=EditRecipe.model_validate(row["recipe"]), created_at=row["created_at"],
    )


def _rendition_object(row: asyncpg.Record) -> RenditionObject:
    return RenditionObject(
        object_key=row["object_key"], bucket=row["bucket"], user_key=row["user_key"],
        original_media_id=row["original_media_id"], derived_media_id=row["derived_media_id"],
    )


class PostgresRepository(Repository):
    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self._conn = conn
        self._schema = schema
        self.outbox_written = False

    async def lock_user(self, user_key: str) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                 f"{self._schema}:user:{user_key}")

    # consent and removed media

    async def consent(self, user_key: str) -> Consent | None:
        row = await self._conn.fetchrow("SELECT * FROM consent WHERE user_key = $1", user_key)
        return Consent(row["user_key"], row["camera_roll"], row["ledger_seq"],
                       row["changed_at"]) if row else None

    async def save_consent(self, consent: Consent) -> None:
        await self._conn.execute(
            "INSERT INTO consent (user_key, camera_roll, ledger_seq, changed_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (user_key) DO UPDATE SET "
            "camera_roll = EXCLUDED.camera_roll, ledger_seq = EXCLUDED.ledger_seq, "
            "changed_at = EXCLUDED.changed_at",
            consent.user_key, consent.camera_roll, consent.ledger_seq, consent.changed_at,
        )

    async def add_removed(self, user_key: str, media_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            "INSERT INTO removed_media (media_id, user_key) SELECT unnest($2::uuid[]), $1 "
            "ON CONFLICT DO NOTHING", user_key, list(media_ids))

    # media

    async def intake(self, user_key: str, media_id: UUID) -> Intake:
        row = await self._conn.fetchrow(
            "SELECT c.camera_roll, c.ledger_seq, c.changed_at, "
            " EXISTS (SELECT 1 FROM removed_media WHERE media_id = $2 AND user_key = $1) "
            "  AS removed, "
            " (SELECT m FROM media m WHERE m.media_id = $2) AS existing "
            "FROM (SELECT 1) AS one LEFT JOIN consent c ON c.user_key = $1", user_key, media_id)
        consent = Consent(user_key, row["camera_roll"], row["ledger_seq"], row["changed_at"]) \
            if row["camera_roll"] is not None else None
        existing = None
        if row["existing"] is not None:
            found = await self.get_media([media_id])  # rare: a reclassification
            existing = found[0] if found else None
        return Intake(consent, row["removed"], existing)

    async def get_media(self, media_ids: Sequence[UUID]) -> list[MediaItem]:
        rows = await self._conn.fetch(
            f"SELECT {_MEDIA_COLUMNS} FROM media WHERE media_id = ANY($1::uuid[])", list(media_ids))
        return [_media(r) for r in rows]

    @staticmethod
    def _media_args(item: MediaItem) -> tuple[Any, ...]:
        return (
            item.media_id, item.user_key, item.event_id, item.bucket, item.object_key, item.width,
            item.height, item.taken_at, item.coarse_location, item.category, item.quality_score,
            item.duplicate_group, item.is_best_in_group, item.nsfw_score, item.face_count,
            list(item.embedding) if item.embedding is not None else None, item.gem_score,
            item.is_gem, item.classified_event_id, item.classified_at, item.unrenderable,
        )

    async def save_media(self, item: MediaItem) -> None:
        await self._conn.execute(_MEDIA_UPSERT, *self._media_args(item))

    async def delete_media(self, media_ids: Sequence[UUID]) -> None:
        await self._conn.execute("DELETE FROM media WHERE media_id = ANY($1::uuid[])",
                                 list(media_ids))

    async def neighbourhood(self, user_key: str, start: datetime,
                            end: datetime) -> Neighbourhood:
        rows = await self._conn.fetch(
            "SELECT m.media_id, m.taken_at, m.coarse_location, m.event_id, e.user_key, "
            " e.start_at, e.end_at, e.version, e.dirty, e.due_at, e.attempts "
            "FROM media m LEFT JOIN events e ON e.event_id = m.event_id "
            "WHERE m.user_key = $1 AND m.taken_at BETWEEN $2 AND $3 "
            "ORDER BY m.taken_at, m.media_id", user_key, start, end)
        moments = [Moment(r["media_id"], r["taken_at"], r["coarse_location"], r["event_id"])
                   for r in rows]
        events = {r["event_id"]: _event(r) for r in rows if r["user_key"] is not None}
        return Neighbourhood(moments, events)

    async def save_placement(self, event: EventRecord, item: MediaItem) -> None:
        await self._conn.execute(
            "WITH saved_event AS (INSERT INTO events (event_id, user_key, start_at, end_at, "
            " version, dirty, due_at, attempts) VALUES ($22, $2, $23, $24, $25, $26, $27, $28) "
            " ON CONFLICT (event_id) DO UPDATE SET start_at = EXCLUDED.start_at, "
            " end_at = EXCLUDED.end_at, version = EXCLUDED.version, dirty = EXCLUDED.dirty, "
            " due_at = EXCLUDED.due_at, attempts = EXCLUDED.attempts) "
            + _MEDIA_UPSERT,
            *self._media_args(item), event.event_id, event.start_at, event.end_at,
            event.version, event.dirty, event.due_at, event.attempts,
        )

    async def media_of_event(self, event_id: UUID) -> list[MediaItem]:
        rows = await self._conn.fetch(
            f"SELECT {_MEDIA_COLUMNS} FROM media WHERE event_id = $1 ORDER BY taken_at, media_id",
            event_id)
        return [_media(r) for r in rows]

    async def move_media(self, media_ids: Sequence[UUID] | None, from_events: Sequence[UUID],
                         to_event: UUID) -> None:
        if media_ids is None:
            await self._conn.execute(
                "UPDATE media SET event_id = $2 WHERE event_id = ANY($1::uuid[])",
                list(from_events), to_event)
        else:
            await self._conn.execute(
                "UPDATE media SET event_id = $3 WHERE media_id = ANY($1::uuid[]) "
                "AND event_id = ANY($2::uuid[])", list(media_ids), list(from_events), to_event)

    async def mark_unrenderable(self, media_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            "UPDATE media SET unrenderable = true WHERE media_id = ANY($1::uuid[])",
            list(media_ids))

    async def delete_user_media(self, user_key: str) -> None:
        await self._conn.execute("DELETE FROM media WHERE user_key = $1", user_key)
        await self._conn.execute("DELETE FROM events WHERE user_key = $1", user_key)

    # events

    async def get_events(self, event_ids: Sequence[UUID]) -> list[EventRecord]:
        rows = await self._conn.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[])",
            list(event_ids))
        return [_event(r) for r in rows]

    async def save_event(self, event: EventRecord) -> None:
        await self._conn.execute(
            "INSERT INTO events (event_id, user_key, start_at, end_at, version, dirty, due_at, "
            "attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO UPDATE "
            "SET start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, "
            "version = EXCLUDED.version, dirty = EXCLUDED.dirty, due_at = EXCLUDED.due_at, "
            "attempts = EXCLUDED.attempts",
            event.event_id, event.user_key, event.start_at, event.end_at, event.version,
            event.dirty, event.due_at, event.attempts,
        )

    async def delete_events(self, event_ids: Sequence[UUID]) -> None:
        await self._conn.execute("DELETE FROM events WHERE event_id = ANY($1::uuid[])",
                                 list(event_ids))

    async def claim_due_events(self, now: datetime, limit: int,
                               lease_until: datetime) -> list[EventRecord]:
        rows = await self._conn.fetch(
            "UPDATE events SET lease_until = $3 WHERE event_id IN ("
            " SELECT event_id FROM events WHERE dirty AND due_at <= $1"
            " AND (lease_until IS NULL OR lease_until < $1)"
            f" ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {_EVENT_COLUMNS}",
            now, limit, lease_until)
        return sorted((_event(r) for r in rows), key=lambda e: (e.due_at, str(e.event_id)))

    async def finish_event(self, event_id: UUID, version: int) -> bool:
        status = await self._conn.execute(
            "UPDATE events SET dirty = false, lease_until = NULL, attempts = 0, due_at = NULL, "
            "planned_at = now() WHERE event_id = $1 AND version = $2", event_id, version)
        return status.endswith(" 1")

    async def release_event(self, event_id: UUID, retry_at: datetime | None = None) -> None:
        if retry_at is None:
            await self._conn.execute(
                "UPDATE events SET lease_until = NULL WHERE event_id = $1", event_id)
        else:
            await self._conn.execute(
                "UPDATE events SET lease_until = NULL, attempts = attempts + 1, "
                "due_at = GREATEST(due_at, $2) WHERE event_id = $1", event_id, retry_at)

    async def count_open_events(self) -> int:
        return int(await self._conn.fetchval("SELECT count(*) FROM events WHERE dirty"))

    # suggestions

    async def get_suggestion(self, suggestion_id: UUID) -> SuggestionRecord | None:
        row = await self._conn.fetchrow(f"{_SUGGESTION_SELECT} WHERE s.suggestion_id = $1",
                                        suggestion_id)
        return _suggestion(row) if row else None

    async def suggestions_of_events(self, event_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        rows = await self._conn.fetch(
            f"{_SUGGESTION_SELECT} WHERE s.event_id = ANY($1::uuid[]) ORDER BY s.suggestion_id",
            list(event_ids))
        return [_suggestion(r) for r in rows]

    async def suggestions_with_media(self, user_key: str,
                                     media_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        rows = await self._conn.fetch(
            f"{_SUGGESTION_SELECT} WHERE s.user_key = $1 AND s.media_ids && $2::uuid[] "
            "ORDER BY s.suggestion_id", user_key, list(media_ids))
        return [_suggestion(r) for r in rows]

    async def suggestions_of_user(self, user_key: str,
                                  statuses: Sequence[SuggestionStatus]) -> list[SuggestionRecord]:
        rows = await self._conn.fetch(
            f"{_SUGGESTION_SELECT} WHERE s.user_key = $1 AND s.status = ANY($2::text[]) "
            "ORDER BY s.suggestion_id", user_key, [s.value for s in statuses])
        return [_suggestion(r) for r in rows]

    async def save_suggestion(self, s: SuggestionRecord) -> None:
        await self._conn.execute(
            "INSERT INTO suggestions (suggestion_id, user_key, event_id, kind, revision, "
            "media_ids, title, status, recipe, preview_object_key, event_start, event_end, "
            "shareable, fingerprint, stale, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
            "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
            "ON CONFLICT (suggestion_id) DO UPDATE SET event_id = EXCLUDED.event_id, "
            "revision = EXCLUDED.revision, media_ids = EXCLUDED.media_ids, "
            "title = EXCLUDED.title, status = EXCLUDED.status, recipe = EXCLUDED.recipe, "
            "preview_object_key = EXCLUDED.preview_object_key, "
            "event_start = EXCLUDED.event_start, event_end = EXCLUDED.event_end, "
            "shareable = EXCLUDED.shareable, fingerprint = EXCLUDED.fingerprint, "
            "stale = EXCLUDED.stale, updated_at = EXCLUDED.updated_at",
            s.suggestion_id, s.user_key, s.event_id, s.kind.value, s.revision, list(s.media_ids),
            s.title, s.status.value, s.recipe.model_dump(mode="json") if s.recipe else None,
            s.preview_object_key, s.event_start, s.event_end, s.shareable, s.fingerprint,
            s.stale, s.created_at, s.updated_at,
        )

    async def delete_suggestion(self, suggestion_id: UUID) -> None:
        await self._conn.execute("DELETE FROM suggestions WHERE suggestion_id = $1", suggestion_id)

    async def list_suggestions(
        self, user_key: str, *, status: SuggestionStatus | None, kind: SuggestionKind | None,
        limit: int, after: PageCursor | None,
    ) -> list[SuggestionRecord]:
        where = ["s.user_key = $1"]
        args: list[Any] = [user_key]
        if status is not None:
            args.append(status.value)
            where.append(f"s.status = ${len(args)}")
        else:
            where.append("s.status <> 'withdrawn'")
        if kind is not None:
            args.append(kind.value)
            where.append(f"s.kind = ${len(args)}")
        if after is not None:
            args.extend([after.created_at, after.suggestion_id])
            where.append(f"(s.created_at, s.suggestion_id) < (${len(args) - 1}, ${len(args)})")
        args.append(limit)
        rows = await self._conn.fetch(
            f"{_SUGGESTION_SELECT} WHERE {' AND '.join(where)} "
            f"ORDER BY s.created_at DESC, s.suggestion_id DESC LIMIT ${len(args)}", *args)
        return [_suggestion(r) for r in rows]

    async def record_action(self, suggestion_id: UUID, action: ActionName, at: datetime) -> bool:
        status = await self._conn.execute(
            "INSERT INTO suggestion_actions (suggestion_id, action, acted_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING", suggestion_id, action.value, at)
        return status.endswith(" 1")

    async def forget_action(self, suggestion_id: UUID, action: ActionName) -> None:
        await self._conn.execute(
            "DELETE FROM suggestion_actions WHERE suggestion_id = $1 AND action = $2",
            suggestion_id, action.value)

    # renditions

    async def record_rendition_object(self, obj: RenditionObject) -> None:
        await self._conn.execute(
            "INSERT INTO rendition_objects (object_key, bucket, user_key, original_media_id, "
            "derived_media_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (object_key) "
            "DO UPDATE SET recorded_at = now()",
            obj.object_key, obj.bucket, obj.user_key, obj.original_media_id,
            obj.derived_media_id)

    async def rendition_objects_of(self, user_key: str,
                                   original_media_ids: Sequence[UUID]) -> list[RenditionObject]:
        rows = await self._conn.fetch(
            "SELECT * FROM rendition_objects WHERE user_key = $1 "
            "AND original_media_id = ANY($2::uuid[]) ORDER BY object_key",
            user_key, list(original_media_ids))
        return [_rendition_object(r) for r in rows]

    async def orphan_rendition_objects(self, older_than: datetime,
                                       limit: int) -> list[RenditionObject]:
        rows = await self._conn.fetch(
            "SELECT r.* FROM rendition_objects r WHERE r.recorded_at < $1 AND NOT EXISTS "
            "(SELECT 1 FROM derived_media d WHERE d.object_key = r.object_key) "
            "ORDER BY r.recorded_at LIMIT $2", older_than, limit)
        return [_rendition_object(r) for r in rows]

    async def forget_rendition_objects(self, object_keys: Sequence[str]) -> None:
        await self._conn.execute("DELETE FROM rendition_objects WHERE object_key = ANY($1::text[])",
                                 list(object_keys))

    async def get_derived(self, derived_media_id: UUID) -> DerivedMedia | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM derived_media WHERE derived_media_id = $1", derived_media_id)
        return _derived(row) if row else None

    async def save_derived(self, d: DerivedMedia) -> None:
        await self._conn.execute(
            "INSERT INTO derived_media (derived_media_id, user_key, original_media_id, "
            "suggestion_id, bucket, object_key, recipe, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            d.derived_media_id, d.user_key, d.original_media_id, d.suggestion_id, d.bucket,
            d.object_key, d.recipe.model_dump(mode="json"), d.created_at,
        )

    async def derived_of_originals(self, media_ids: Sequence[UUID]) -> list[DerivedMedia]:
        rows = await self._conn.fetch(
            "SELECT * FROM derived_media WHERE original_media_id = ANY($1::uuid[])",
            list(media_ids))
        return [_derived(r) for r in rows]

    async def delete_derived(self, derived_media_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            "DELETE FROM derived_media WHERE derived_media_id = ANY($1::uuid[])",
            list(derived_media_ids))

    # outbox

    async def add_outbox(self, topic: Topic, event: Event, key: str) -> None:
        if Service.suggester not in topic.writers:
            raise PermissionError(f"the suggester may not write {topic.name}")
        if not topic.accepts(event):
            raise TypeError(f"{type(event).__name__} does not belong on {topic.name}")
        await self._conn.execute(
            "INSERT INTO outbox (topic, message_key, payload) VALUES ($1, $2, $3)",
            topic.name, key, event.to_json())
        self.outbox_written = True


class PostgresUnitOfWork:
    """`async with uow() as repo:` — a pooled connection in one transaction."""

    def __init__(self, pool: asyncpg.Pool, schema: str, on_outbox: Any = None) -> None:
        self._pool = pool
        self._schema = schema
        self._on_outbox = on_outbox

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PostgresRepository]:
        async with self._pool.acquire() as conn:
            repo = PostgresRepository(conn, self._schema)
            async with conn.transaction():
                yield repo
        if repo.outbox_written and self._on_outbox is not None:
            self._on_outbox()
