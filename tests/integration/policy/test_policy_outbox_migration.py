"""The gate's outbox moves to the common shape without losing what was not published yet:
rows the old gate left behind keep their order and their key (a dead letter's key that is
not UTF-8 included), get their event id from the stored event, and the upgraded gate
publishes them exactly as they were, before anything written after the upgrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from gemroll_common import db
from gemroll_contracts import CONSENT, DEAD_LETTERS, DeadLetter, DeadLetterData
from gemroll_testkit import eventually
from gemroll_testkit.events import consent
from gemroll_testkit.topics import read_records

pytestmark = pytest.mark.integration

OLD_MIGRATIONS = ("0001_init.sql", "0002_privacy.sql")
NOT_UTF8 = b"\xff\xfe-key"


def dead_letter() -> DeadLetter:
    return DeadLetter(producer="policy", data=DeadLetterData(
        source_topic="gemroll.training.candidates.v1", source_partition=0, source_offset=7,
        consumer_group="policy.gate", original_key=NOT_UTF8, original_value=b"{",
        error_type="ValidationError", error="invalid JSON", attempts=1,
        failed_at=datetime.now(UTC)))


async def test_rows_the_old_gate_left_unpublished_go_out_after_the_upgrade(policy):
    user = policy.user_key("upgrade")
    changed, letter = consent(user), dead_letter()
    pool = await db.create_pool(policy.env.database, policy.schema)
    try:
        assert await db.migrate(pool, policy.schema, "gemroll_policy", through=2) == list(
            OLD_MIGRATIONS)
        async with pool.acquire() as conn:  # rows as the old code left them
            await conn.execute("SELECT setval('outbox_seq', 40)")  # published before
            await conn.executemany(  # as the old writer did: seq from outbox_seq, key bytes
                "INSERT INTO outbox (seq, topic, key, value, event_type) "
                "VALUES (nextval('outbox_seq'), $1, $2, $3, $4)",
                [(CONSENT.name, user.encode(), changed.to_json(), changed.event_type),
                 (DEAD_LETTERS.name, NOT_UTF8, letter.to_json(), letter.event_type)])

        assert await db.migrate(pool, policy.schema, "gemroll_policy") == [
            "0003_common_outbox.sql", "0004_copy_queue.sql"]
        async with pool.acquire() as conn:
            rows = [tuple(r) for r in await conn.fetch(
                "SELECT id, message_key, event_id, event_type, payload FROM outbox ORDER BY id")]
        assert rows == [
            (41, user, changed.event_id, "consent.changed", changed.to_json()),
            (42, "\\377\\376-key", letter.event_id, "dead_letter", letter.to_json())]
    finally:
        await pool.close()

    app = policy.app()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.put("/v1/consent", json={"camera_roll": True},
                                    headers=policy.headers("upgrade"))
        assert response.status_code == 200, response.text
        published = await read_records(policy.env.kafka.bootstrap_servers,
                                       policy.env.topic(CONSENT), until=lambda r: len(r) >= 2,
                                       timeout_s=30)
        [out] = await read_records(policy.env.kafka.bootstrap_servers,
                                   policy.env.topic(DEAD_LETTERS), until=lambda r: len(r) >= 1,
                                   timeout_s=30)

        async def outbox_empty() -> bool:  # published rows go at the next relay pass
            [row] = await policy.query("SELECT count(*) AS n FROM outbox")
            return row["n"] == 0

        await eventually(outbox_empty, "the published rows to be deleted")
    assert [(r.key, r.value) for r in published][0] == (user.encode(), changed.to_json())
    assert json.loads(published[1].value)["data"]["ledger_seq"] == 1  # the API's, after it
    assert (out.key, out.value) == (b"\\377\\376-key", letter.to_json())
