"""Share links (`share_links`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from ...domain.sharing import ShareLink
from ...ports import ShareLinkRepository


def _link(row: asyncpg.Record) -> ShareLink:
    return ShareLink(token=row["token"], suggestion_id=row["suggestion_id"],
                     user_key=row["user_key"], created_at=row["created_at"],
                     expires_at=row["expires_at"], revoked_at=row["revoked_at"])


class PostgresShareLinks(ShareLinkRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, link: ShareLink) -> None:
        await self._conn.execute(
            "INSERT INTO share_links (token, suggestion_id, user_key, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5)", link.token, link.suggestion_id, link.user_key,
            link.created_at, link.expires_at)

    async def get(self, token: str) -> ShareLink | None:
        row = await self._conn.fetchrow("SELECT * FROM share_links WHERE token = $1", token)
        return _link(row) if row else None

    async def live_of_suggestion(self, suggestion_id: UUID, now: datetime) -> ShareLink | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM share_links WHERE suggestion_id = $1 AND revoked_at IS NULL "
            "AND expires_at > $2 ORDER BY created_at DESC LIMIT 1", suggestion_id, now)
        return _link(row) if row else None

    async def live_of_user(self, user_key: str, now: datetime) -> list[ShareLink]:
        rows = await self._conn.fetch(
            "SELECT * FROM share_links WHERE user_key = $1 AND revoked_at IS NULL "
            "AND expires_at > $2 ORDER BY created_at DESC", user_key, now)
        return [_link(r) for r in rows]

    async def revoke(self, suggestion_id: UUID, now: datetime) -> int:
        done = await self._conn.execute(
            "UPDATE share_links SET revoked_at = $2 WHERE suggestion_id = $1 "
            "AND revoked_at IS NULL", suggestion_id, now)
        return int(done.split()[-1])

    async def revoke_of_user(self, user_key: str, now: datetime) -> int:
        done = await self._conn.execute(
            "UPDATE share_links SET revoked_at = $2 WHERE user_key = $1 AND revoked_at IS NULL",
            user_key, now)
        return int(done.split()[-1])

    async def delete_of_user(self, user_key: str) -> None:
        await self._conn.execute("DELETE FROM share_links WHERE user_key = $1", user_key)
