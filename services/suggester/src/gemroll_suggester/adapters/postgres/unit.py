"""The unit of work on PostgreSQL: one pooled connection in one transaction, with a
repository per aggregate, consent, the user lock and the common transactional outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from gemroll_common import outbox
from gemroll_contracts import Event, Service, Topic

from ...domain import Consent
from ...ports import ConsentRepository, Outbox, Transaction
from .events import PostgresEvents
from .media import PostgresMedia
from .renditions import PostgresRenditions
from .share_links import PostgresShareLinks
from .suggestions import PostgresSuggestions


class PostgresConsent(ConsentRepository):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, user_key: str) -> Consent | None:
        row = await self._conn.fetchrow("SELECT * FROM consent WHERE user_key = $1", user_key)
        return Consent(row["user_key"], row["camera_roll"], row["ledger_seq"],
                       row["changed_at"]) if row else None

    async def save(self, consent: Consent) -> None:
        await self._conn.execute(
            "INSERT INTO consent (user_key, camera_roll, ledger_seq, changed_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (user_key) DO UPDATE SET "
            "camera_roll = EXCLUDED.camera_roll, ledger_seq = EXCLUDED.ledger_seq, "
            "changed_at = EXCLUDED.changed_at",
            consent.user_key, consent.camera_roll, consent.ledger_seq, consent.changed_at,
        )


class PostgresOutbox(Outbox):
    """Writes to the common outbox table (`gemroll_common.outbox`); refuses at once what
    the suggester may not publish, rather than when the relay sends it."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.written = False

    async def add(self, topic: Topic, event: Event, *, key: str,
                  subject_id: UUID | None = None) -> None:
        if Service.suggester not in topic.writers:
            raise PermissionError(f"the suggester may not write {topic.name}")
        if not topic.accepts(event):
            raise TypeError(f"{type(event).__name__} does not belong on {topic.name}")
        await outbox.append(self._conn, [outbox.OutboxMessage(topic, key, event, subject_id)])
        self.written = True


class PostgresTransaction(Transaction):
    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self._conn = conn
        self._schema = schema
        self.consent = PostgresConsent(conn)
        self.media = PostgresMedia(conn)
        self.events = PostgresEvents(conn)
        self.suggestions = PostgresSuggestions(conn)
        self.renditions = PostgresRenditions(conn)
        self.share_links = PostgresShareLinks(conn)
        self.outbox = PostgresOutbox(conn)

    async def lock_user(self, user_key: str) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                 f"{self._schema}:user:{user_key}")


class PostgresUnitOfWork:
    """`async with uow() as tx:` — a pooled connection in one transaction; `on_outbox` is
    called after a commit that wrote the outbox (to wake the relay)."""

    def __init__(self, pool: asyncpg.Pool, schema: str,
                 on_outbox: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._schema = schema
        self._on_outbox = on_outbox

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PostgresTransaction]:
        async with self._pool.acquire() as conn:
            tx = PostgresTransaction(conn, self._schema)
            async with conn.transaction():
                yield tx
        if tx.outbox.written and self._on_outbox is not None:
            self._on_outbox()
