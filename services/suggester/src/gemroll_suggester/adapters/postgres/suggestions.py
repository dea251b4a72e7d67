"""Suggestions (`suggestions`) and the actions taken on them (`suggestion_actions`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from gemroll_contracts import EditRecipe, SuggestionKind

from ...domain import ActionName, SuggestionRecord, SuggestionStatus
from ...ports import PageCursor, SuggestionRepository

_SELECT = (
    "SELECT s.*, COALESCE((SELECT array_agg(a.action) FROM suggestion_actions a "
    "WHERE a.suggestion_id = s.suggestion_id), '{}') AS actions FROM suggestions s"
)
_UPSERT = (
    "INSERT INTO suggestions (suggestion_id, user_key, event_id, kind, revision, "
    "media_ids, title, status, recipe, preview_object_key, event_start, event_end, "
    "shareable, fingerprint, stale, created_at, updated_at, occasion) VALUES ($1, $2, $3, "
    "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) "
    "ON CONFLICT (suggestion_id) DO UPDATE SET event_id = EXCLUDED.event_id, "
    "revision = EXCLUDED.revision, media_ids = EXCLUDED.media_ids, "
    "title = EXCLUDED.title, status = EXCLUDED.status, recipe = EXCLUDED.recipe, "
    "preview_object_key = EXCLUDED.preview_object_key, "
    "event_start = EXCLUDED.event_start, event_end = EXCLUDED.event_end, "
    "shareable = EXCLUDED.shareable, fingerprint = EXCLUDED.fingerprint, "
    "stale = EXCLUDED.stale, updated_at = EXCLUDED.updated_at"
)


def _suggestion(row: asyncpg.Record) -> SuggestionRecord:
    recipe = row["recipe"]
    return SuggestionRecord(
        suggestion_id=row["suggestion_id"], user_key=row["user_key"], event_id=row["event_id"],
        kind=SuggestionKind(row["kind"]), revision=row["revision"],
        media_ids=tuple(row["media_ids"]), title=row["title"],
        status=SuggestionStatus(row["status"]),
        recipe=EditRecipe.read(recipe) if recipe is not None else None,
        preview_object_key=row["preview_object_key"], event_start=row["event_start"],
        event_end=row["event_end"], shareable=row["shareable"], fingerprint=row["fingerprint"],
        created_at=row["created_at"], updated_at=row["updated_at"], stale=row["stale"],
        actions=frozenset(ActionName(a) for a in row["actions"]), occasion=row["occasion"],
    )


class PostgresSuggestions(SuggestionRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _fetch(self, where: str, *args: Any) -> list[SuggestionRecord]:
        rows = await self._conn.fetch(f"{_SELECT} WHERE {where}", *args)
        return [_suggestion(r) for r in rows]

    async def get(self, suggestion_id: UUID) -> SuggestionRecord | None:
        found = await self._fetch("s.suggestion_id = $1", suggestion_id)
        return found[0] if found else None

    async def of_events(self, event_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        return await self._fetch("s.event_id = ANY($1::uuid[]) ORDER BY s.suggestion_id",
                                 list(event_ids))

    async def with_media(self, user_key: str,
                         media_ids: Sequence[UUID]) -> list[SuggestionRecord]:
        return await self._fetch("s.user_key = $1 AND s.media_ids && $2::uuid[] "
                                 "ORDER BY s.suggestion_id", user_key, list(media_ids))

    async def of_user(self, user_key: str,
                      statuses: Sequence[SuggestionStatus]) -> list[SuggestionRecord]:
        return await self._fetch("s.user_key = $1 AND s.status = ANY($2::text[]) "
                                 "ORDER BY s.suggestion_id", user_key, [s.value for s in statuses])

    async def save(self, s: SuggestionRecord) -> None:
        await self._conn.execute(
            _UPSERT,
            s.suggestion_id, s.user_key, s.event_id, s.kind.value, s.revision, list(s.media_ids),
            s.title, s.status.value, s.recipe.model_dump(mode="json") if s.recipe else None,
            s.preview_object_key, s.event_start, s.event_end, s.shareable, s.fingerprint,
            s.stale, s.created_at, s.updated_at, s.occasion,
        )

    async def delete(self, suggestion_id: UUID) -> None:
        await self._conn.execute("DELETE FROM suggestions WHERE suggestion_id = $1", suggestion_id)

    async def page(
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
        return await self._fetch(
            f"{' AND '.join(where)} "
            f"ORDER BY s.created_at DESC, s.suggestion_id DESC LIMIT ${len(args)}", *args)

    async def record_action(self, suggestion_id: UUID, action: ActionName, at: datetime) -> bool:
        status = await self._conn.execute(
            "INSERT INTO suggestion_actions (suggestion_id, action, acted_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING", suggestion_id, action.value, at)
        return status.endswith(" 1")

    async def forget_action(self, suggestion_id: UUID, action: ActionName) -> None:
        await self._conn.execute(
            "DELETE FROM suggestion_actions WHERE suggestion_id = $1 AND action = $2",
            suggestion_id, action.value)
