"""The planner's leases in PostgreSQL: taken over only once run out, renewed by their owner
only, and held (row-locked) by the owner's commit so that no one takes them over meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from gemroll_suggester.adapters.postgres import PostgresUnitOfWork
from gemroll_suggester.domain import EventRecord

pytestmark = pytest.mark.integration


async def test_leases_are_owned_renewed_and_held_through_the_commit(suggester) -> None:
    schema = suggester.settings.db_schema
    pool = await asyncpg.create_pool(suggester.env.database.url.get_secret_value(),
                                     min_size=2, max_size=3,
                                     server_settings={"search_path": f"{schema}, public"})
    assert pool is not None
    uow = PostgresUnitOfWork(pool, schema)
    now = datetime.now(UTC)
    event = EventRecord(uuid.uuid4(), "ab" * 16, now, now, dirty=True,
                        due_at=now - timedelta(days=365))  # the oldest due: claimed first
    a, b = uuid.uuid4(), uuid.uuid4()
    try:
        async with uow() as tx:
            await tx.events.save(event)

        async def claim(owner: uuid.UUID, at: datetime) -> list[uuid.UUID]:
            async with uow() as tx:
                got = await tx.events.claim_due(at, 1, at + timedelta(seconds=30), owner)
            return [e.event_id for e in got]

        assert await claim(a, now) == [event.event_id]
        assert await claim(b, now + timedelta(seconds=10)) == []  # a's lease is live
        async with uow() as tx:
            assert await tx.events.renew([event.event_id], b, now) == set()  # not b's
            assert await tx.events.renew([event.event_id], a, now + timedelta(seconds=60)) == {
                event.event_id}
        assert await claim(b, now + timedelta(seconds=45)) == []  # renewed until +60
        assert await claim(b, now + timedelta(seconds=61)) == [event.event_id]  # taken over
        async with uow() as tx:
            assert not await tx.events.holds(event.event_id, a)
            assert await tx.events.holds(event.event_id, b)

        # b's commit holds the row: even with b's lease run out, a claim made during that
        # commit skips the event (it is locked), and after it there is nothing left to plan
        later = now + timedelta(seconds=200)
        async with uow() as tx:
            assert await tx.events.holds(event.event_id, b)
            assert await asyncio.wait_for(claim(a, later), 5) == []
            await tx.events.finish(event.event_id, event.version)
        assert await claim(a, later) == []
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DELETE FROM {schema}.events WHERE event_id = $1",
                               event.event_id)
        await pool.close()
