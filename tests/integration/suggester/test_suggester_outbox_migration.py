"""The suggester's outbox moves to the common shape without losing what was not published
yet: rows written by the old code get their event id, type and subject from the stored
event, keep their order, and the common relay publishes them as they were."""

from __future__ import annotations

from uuid import uuid4

import pytest
from gemroll_common import db
from gemroll_common.outbox import OutboxRelay, OutboxRow
from gemroll_contracts import (
    SUGGESTIONS,
    USER_ACTIONS,
    SuggestionKind,
    SuggestionWithdrawn,
    SuggestionWithdrawnData,
    UserAction,
    UserActionData,
    WithdrawalReason,
    utcnow,
)
from gemroll_contracts.users import ActionKind
from gemroll_testkit.isolation import isolated

pytestmark = pytest.mark.integration

OLD_MIGRATIONS = ("0001_init.sql", "0002_rendition_objects.sql")


async def test_pending_rows_of_the_old_outbox_are_kept_and_relayed(stack, unique):
    env = isolated(stack, suffix=f".t{unique}", schema_suffix=f"_t{unique}")  # no topics
    schema = f"suggester_outbox_{unique}"
    pool = await db.create_pool(env.database, schema)
    user = "f" * 32
    withdrawn = SuggestionWithdrawn(producer="suggester", data=SuggestionWithdrawnData(
        suggestion_id=uuid4(), revision=2, user_key=user, kind=SuggestionKind.collage,
        reason=WithdrawalReason.opted_out, withdrawn_at=utcnow()))
    action = UserAction(producer="suggester", data=UserActionData(
        user_key=user, media_id=uuid4(), action=ActionKind.saved, suggestion_id=uuid4(),
        acted_at=utcnow()))
    try:
        assert await db.migrate(pool, schema, "gemroll_suggester", through=2) == list(
            OLD_MIGRATIONS)
        async with pool.acquire() as conn:  # rows as the old code left them
            await conn.executemany(
                "INSERT INTO outbox (topic, message_key, payload) VALUES ($1, $2, $3)",
                [(SUGGESTIONS.name, user, withdrawn.to_json()),
                 (USER_ACTIONS.name, user, action.to_json())])

        assert await db.migrate(pool, schema, "gemroll_suggester", through=3) == [
            "0003_common_outbox.sql"]

        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT event_id, event_type, subject_id FROM outbox ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (withdrawn.event_id, "suggestion.withdrawn", withdrawn.data.suggestion_id),
            (action.event_id, "user.action", action.data.media_id)]

        sent: list[OutboxRow] = []

        async def send(row: OutboxRow) -> None:
            sent.append(row)

        relay = OutboxRelay(pool, schema=schema, service="suggester", send=send)
        assert await relay.drain() == 2
        assert [(r.topic, r.key, r.payload) for r in sent] == [
            (SUGGESTIONS.name, user, withdrawn.to_json()),
            (USER_ACTIONS.name, user, action.to_json())]
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()
