"""Classified photos (`media`), removed ones (`removed_media`) and their place in events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from ...domain import Consent, EventRecord, MediaItem, Moment
from ...domain.framing import Box
from ...ports import Intake, MediaRepository, Neighbourhood
from .events import event_of

_COLUMNS = (
    "media_id, user_key, event_id, bucket, object_key, width, height, taken_at, coarse_location, "
    "category, quality_score, duplicate_group, is_best_in_group, nsfw_score, face_count, "
    "embedding, gem_score, is_gem, classified_event_id, classified_at, unrenderable, "
    "media_kind, poster_key, moment_start_s, moment_end_s, face_boxes"
)
_WIDTH = len(_COLUMNS.split(","))
_UPSERT = (
    f"INSERT INTO media ({_COLUMNS}) VALUES "
    f"({', '.join(f'${i}' for i in range(1, _WIDTH + 1))}) "
    "ON CONFLICT (media_id) DO UPDATE SET event_id = EXCLUDED.event_id, "
    "bucket = EXCLUDED.bucket, object_key = EXCLUDED.object_key, width = EXCLUDED.width, "
    "height = EXCLUDED.height, taken_at = EXCLUDED.taken_at, "
    "coarse_location = EXCLUDED.coarse_location, category = EXCLUDED.category, "
    "quality_score = EXCLUDED.quality_score, duplicate_group = EXCLUDED.duplicate_group, "
    "is_best_in_group = EXCLUDED.is_best_in_group, nsfw_score = EXCLUDED.nsfw_score, "
    "face_count = EXCLUDED.face_count, embedding = EXCLUDED.embedding, "
    "gem_score = EXCLUDED.gem_score, is_gem = EXCLUDED.is_gem, "
    "classified_event_id = EXCLUDED.classified_event_id, "
    "classified_at = EXCLUDED.classified_at, unrenderable = EXCLUDED.unrenderable, "
    "media_kind = EXCLUDED.media_kind, poster_key = EXCLUDED.poster_key, "
    "moment_start_s = EXCLUDED.moment_start_s, moment_end_s = EXCLUDED.moment_end_s, "
    "face_boxes = EXCLUDED.face_boxes"
)


def _faces(flat: Sequence[float] | None) -> tuple[Box, ...] | None:
    """Face boxes from the flat column (4 numbers per face)."""
    if flat is None:
        return None
    values = [float(v) for v in flat]
    return tuple((values[i], values[i + 1], values[i + 2], values[i + 3])
                 for i in range(0, len(values) - 3, 4))


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
        media_kind=row["media_kind"], poster_key=row["poster_key"],
        best_moment=(row["moment_start_s"], row["moment_end_s"])
        if row["moment_start_s"] is not None else None,
        faces=_faces(row["face_boxes"]),
    )


def _media_args(item: MediaItem) -> tuple[Any, ...]:
    return (
        item.media_id, item.user_key, item.event_id, item.bucket, item.object_key, item.width,
        item.height, item.taken_at, item.coarse_location, item.category, item.quality_score,
        item.duplicate_group, item.is_best_in_group, item.nsfw_score, item.face_count,
        list(item.embedding) if item.embedding is not None else None, item.gem_score,
        item.is_gem, item.classified_event_id, item.classified_at, item.unrenderable,
        item.media_kind, item.poster_key, *(item.best_moment or (None, None)),
        [v for face in item.faces for v in face] if item.faces is not None else None,
    )


class PostgresMedia(MediaRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

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
            found = await self.get([media_id])  # rare: a reclassification
            existing = found[0] if found else None
        return Intake(consent, row["removed"], existing)

    async def add_removed(self, user_key: str, media_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            "INSERT INTO removed_media (media_id, user_key) SELECT unnest($2::uuid[]), $1 "
            "ON CONFLICT DO NOTHING", user_key, list(media_ids))

    async def get(self, media_ids: Sequence[UUID]) -> list[MediaItem]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM media WHERE media_id = ANY($1::uuid[])", list(media_ids))
        return [_media(r) for r in rows]

    async def save(self, item: MediaItem) -> None:
        await self._conn.execute(_UPSERT, *_media_args(item))

    async def delete(self, media_ids: Sequence[UUID]) -> None:
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
        events = {r["event_id"]: event_of(r) for r in rows if r["user_key"] is not None}
        return Neighbourhood(moments, events)

    async def save_placement(self, event: EventRecord, item: MediaItem) -> None:
        await self._conn.execute(
            "WITH saved_event AS (INSERT INTO events (event_id, user_key, start_at, end_at, "
            " version, dirty, due_at, attempts) VALUES "
            f"(${_WIDTH + 1}, $2, {', '.join(f'${_WIDTH + i}' for i in range(2, 8))}) "
            " ON CONFLICT (event_id) DO UPDATE SET start_at = EXCLUDED.start_at, "
            " end_at = EXCLUDED.end_at, version = EXCLUDED.version, dirty = EXCLUDED.dirty, "
            " due_at = EXCLUDED.due_at, attempts = EXCLUDED.attempts) "
            + _UPSERT,
            *_media_args(item), event.event_id, event.start_at, event.end_at,
            event.version, event.dirty, event.due_at, event.attempts,
        )

    async def of_event(self, event_id: UUID) -> list[MediaItem]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM media WHERE event_id = $1 ORDER BY taken_at, media_id",
            event_id)
        return [_media(r) for r in rows]

    async def move(self, media_ids: Sequence[UUID] | None, from_events: Sequence[UUID],
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
