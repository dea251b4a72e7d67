"""Presigned (two-step) uploads."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from gemroll_contracts import READ_EXTRA

from ...domain.media import ClientMetadata
from ...domain.uploads import Upload

_COLUMNS = "upload_id, user_key, staging_key, state, metadata, expires_at, media_id, outcome"


def _upload(row: asyncpg.Record) -> Upload:
    return Upload(
        upload_id=row["upload_id"], user_key=row["user_key"], staging_key=row["staging_key"],
        state=row["state"],
        metadata=ClientMetadata.model_validate(row["metadata"], extra=READ_EXTRA),
        expires_at=row["expires_at"], media_id=row["media_id"], outcome=row["outcome"],
    )


class PgUploadRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, upload: Upload) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO uploads (upload_id, user_key, staging_key, state, metadata,"
                " expires_at) VALUES ($1, $2, $3, 'pending', $4, $5)",
                upload.upload_id, upload.user_key, upload.staging_key,
                upload.metadata.model_dump(mode="json", exclude_none=True), upload.expires_at)

    async def get(self, user_key: str, upload_id: UUID) -> Upload | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM uploads WHERE upload_id = $1 AND user_key = $2",
                upload_id, user_key)
        return _upload(row) if row else None

    async def close(
        self, upload_id: UUID, *, state: str, outcome: str, media_id: UUID | None = None
    ) -> bool:
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                "UPDATE uploads SET state = $2, outcome = $3, media_id = $4,"
                " closed_at = clock_timestamp() WHERE upload_id = $1 AND state = 'pending'",
                upload_id, state, outcome, media_id)
        return status == "UPDATE 1"

    async def staging_deleted(self, upload_id: UUID) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE uploads SET staging_present = false, swept_at = CASE WHEN expires_at"
                " < clock_timestamp() THEN clock_timestamp() END WHERE upload_id = $1",
                upload_id)

    async def expired(self, grace_s: int, limit: int) -> list[Upload]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM uploads WHERE state = 'pending'"
                " AND expires_at < clock_timestamp() - make_interval(secs => $1) LIMIT $2",
                float(grace_s), limit)
        return [_upload(r) for r in rows]

    async def leftover_staging(self, limit: int) -> list[Upload]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM uploads WHERE state <> 'pending' AND swept_at IS NULL"
                " AND (staging_present OR expires_at < clock_timestamp()) LIMIT $1", limit)
        return [_upload(r) for r in rows]

    async def delete_for_user(
        self, user_key: str, *, created_at_or_before: datetime | None = None
    ) -> list[str]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "DELETE FROM uploads WHERE user_key = $1"
                " AND ($2::timestamptz IS NULL OR created_at <= $2) RETURNING staging_key",
                user_key, created_at_or_before)
        return [r["staging_key"] for r in rows]
