"""AI renditions (`derived_media`) and every object key written for one
(`rendition_objects`, recorded before the write so that nothing escapes erasure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
from gemroll_contracts import EditRecipe

from ...domain import DerivedMedia
from ...ports import RenditionObject, RenditionRepository


def _derived(row: asyncpg.Record) -> DerivedMedia:
    return DerivedMedia(
        derived_media_id=row["derived_media_id"], user_key=row["user_key"],
        original_media_id=row["original_media_id"], suggestion_id=row["suggestion_id"],
        bucket=row["bucket"], object_key=row["object_key"],
        recipe=EditRecipe.read(row["recipe"]), created_at=row["created_at"],
    )


def _object(row: asyncpg.Record) -> RenditionObject:
    return RenditionObject(
        object_key=row["object_key"], bucket=row["bucket"], user_key=row["user_key"],
        original_media_id=row["original_media_id"], derived_media_id=row["derived_media_id"],
    )


class PostgresRenditions(RenditionRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, derived_media_id: UUID) -> DerivedMedia | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM derived_media WHERE derived_media_id = $1", derived_media_id)
        return _derived(row) if row else None

    async def save(self, d: DerivedMedia) -> None:
        await self._conn.execute(
            "INSERT INTO derived_media (derived_media_id, user_key, original_media_id, "
            "suggestion_id, bucket, object_key, recipe, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            d.derived_media_id, d.user_key, d.original_media_id, d.suggestion_id, d.bucket,
            d.object_key, d.recipe.model_dump(mode="json"), d.created_at,
        )

    async def of_originals(self, media_ids: Sequence[UUID]) -> list[DerivedMedia]:
        rows = await self._conn.fetch(
            "SELECT * FROM derived_media WHERE original_media_id = ANY($1::uuid[])",
            list(media_ids))
        return [_derived(r) for r in rows]

    async def delete(self, derived_media_ids: Sequence[UUID]) -> None:
        await self._conn.execute(
            "DELETE FROM derived_media WHERE derived_media_id = ANY($1::uuid[])",
            list(derived_media_ids))

    async def record_object(self, obj: RenditionObject) -> None:
        await self._conn.execute(
            "INSERT INTO rendition_objects (object_key, bucket, user_key, original_media_id, "
            "derived_media_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (object_key) "
            "DO UPDATE SET recorded_at = now()",
            obj.object_key, obj.bucket, obj.user_key, obj.original_media_id,
            obj.derived_media_id)

    async def objects_of(self, user_key: str,
                         original_media_ids: Sequence[UUID]) -> list[RenditionObject]:
        rows = await self._conn.fetch(
            "SELECT * FROM rendition_objects WHERE user_key = $1 "
            "AND original_media_id = ANY($2::uuid[]) ORDER BY object_key",
            user_key, list(original_media_ids))
        return [_object(r) for r in rows]

    async def orphan_objects(self, older_than: datetime, limit: int) -> list[RenditionObject]:
        rows = await self._conn.fetch(
            "SELECT r.* FROM rendition_objects r WHERE r.recorded_at < $1 AND NOT EXISTS "
            "(SELECT 1 FROM derived_media d WHERE d.object_key = r.object_key) "
            "ORDER BY r.recorded_at LIMIT $2", older_than, limit)
        return [_object(r) for r in rows]

    async def forget_objects(self, object_keys: Sequence[str]) -> None:
        await self._conn.execute("DELETE FROM rendition_objects WHERE object_key = ANY($1::text[])",
                                 list(object_keys))
