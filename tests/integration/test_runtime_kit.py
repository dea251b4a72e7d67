"""The runtime kit on the real stack: the outbox relay (per-key order, one relay per schema,
nothing lost or doubled when two race) and the consumer runner (transient failures retried,
poison and bugs dead-lettered with the reason, the consumer never stops)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from gemroll_common import process
from gemroll_common.consumer import Consumers, FailurePolicy
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.outbox import (
    OUTBOX_TABLE_SQL,
    OutboxMessage,
    OutboxRelay,
    OutboxRow,
    append,
    pending_count,
)
from gemroll_common.retry import Backoff
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    MEDIA_ERASED,
    ConsentChanged,
    ConsentChangedData,
    DeadLetter,
    Service,
    parse_event,
    utcnow,
)
from gemroll_testkit.faults import TRANSIENT_ERRORS
from gemroll_testkit.isolation import Isolated
from gemroll_testkit.topics import read_records
from gemroll_testkit.waiting import eventually

pytestmark = pytest.mark.integration


def consent(user: int, seq: int) -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=f"{user:02x}" * 16, camera_roll=True, training_opt_out=False, ledger_seq=seq,
        changed_at=utcnow()))


@pytest.fixture
def env(isolated_env: Isolated) -> Isolated:
    return isolated_env


@pytest.fixture
async def schema(env: Isolated, unique: str) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    name = f"kit_{unique}"
    pool = await asyncpg.create_pool(env.database.url.get_secret_value(), min_size=1,
                                     max_size=4, server_settings={"search_path": name})
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {name}")
        await conn.execute(OUTBOX_TABLE_SQL)
    yield pool, name
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
    await pool.close()


async def test_the_relay_keeps_each_keys_order_and_two_relays_never_double_a_row(
        schema: tuple[asyncpg.Pool, str]) -> None:
    pool, name = schema
    messages = [OutboxMessage(CONSENT, f"user-{u}", consent(u, seq), subject_id=uuid4())
                for seq in range(1, 41) for u in range(5)]
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, messages)
    sent: list[OutboxRow] = []
    marked: list[int] = []

    async def send(row: OutboxRow) -> None:
        await asyncio.sleep(0.001 * (hash(row.key) % 3))  # keys finish out of step
        sent.append(row)

    async def on_published(conn: asyncpg.Connection, rows: list[OutboxRow]) -> None:
        marked.extend(r.id for r in rows)

    relays = [OutboxRelay(pool, schema=name, service="test", send=send, batch_size=17,
                          on_published=on_published) for _ in range(2)]
    while True:
        done = await asyncio.gather(*(r.relay_once() for r in relays))
        if not any(done):
            async with pool.acquire() as conn:
                if await pending_count(conn) == 0:
                    break

    assert sorted(r.id for r in sent) == sorted(set(r.id for r in sent)), "a row went twice"
    assert len(sent) == len(messages) and sorted(marked) == sorted(r.id for r in sent)
    for u in range(5):
        seqs = [parse_event(r.payload).data.ledger_seq for r in sent if r.key == f"user-{u}"]
        assert seqs == list(range(1, 41)), f"user-{u} out of order"
    assert {r.subject_id for r in sent} == {m.subject_id for m in messages}


async def test_the_relay_keeps_rows_while_sending_fails_and_publishes_them_later(
        schema: tuple[asyncpg.Pool, str]) -> None:
    pool, name = schema
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, [OutboxMessage(CONSENT, "k", consent(1, s)) for s in (1, 2, 3)])
    failing = {"left": 2}
    sent: list[int] = []

    async def send(row: OutboxRow) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise TRANSIENT_ERRORS["kafka_connection"]()
        sent.append(parse_event(row.payload).data.ledger_seq)

    relay = OutboxRelay(pool, schema=name, service="test", send=send, idle_s=0.05,
                        backoff=Backoff(0.01, 0.05))
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _done(pool, sent), "the outbox drained", timeout_s=20)
    finally:
        task.cancel()
    # A failed pass keeps the whole batch; a redelivered row is fine (at least once) but
    # every row goes out and the last pass is in order.
    assert sent[-3:] == [1, 2, 3]


async def test_a_producer_out_of_step_asks_for_a_new_process_and_keeps_the_rows(
        schema: tuple[asyncpg.Pool, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """aiokafka's idempotent producer never recovers from OutOfOrderSequenceNumber (after a
    long Kafka outage): the relay asks for a restart instead of retrying it forever."""
    pool, name = schema
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, [OutboxMessage(CONSENT, "k", consent(1, 1))])
    restarts: list[str] = []
    monkeypatch.setattr(process, "request_restart", restarts.append)

    async def send(row: OutboxRow) -> None:
        raise OutOfOrderSequenceNumber()

    relay = OutboxRelay(pool, schema=name, service="test", send=send, idle_s=0.05,
                        backoff=Backoff(0.01, 0.02))
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _returns(bool(restarts)), "a restart asked for", timeout_s=10)
    finally:
        task.cancel()
    assert "OutOfOrderSequenceNumber" in restarts[0]
    async with pool.acquire() as conn:
        assert await pending_count(conn) == 1


async def _returns(value: bool) -> bool:
    return value


async def _done(pool: asyncpg.Pool, sent: list[int]) -> bool:
    async with pool.acquire() as conn:
        return await pending_count(conn) == 0 and len(sent) >= 3


async def test_the_runner_retries_every_transient_kind_and_dead_letters_poison_and_bugs(
        env: Isolated) -> None:
    kinds = sorted(TRANSIENT_ERRORS)
    broker = make_broker(env.kafka, Service.suggester)
    publisher = EventPublisher(broker, env.kafka, Service.policy)  # writes CONSENT for the test
    consumers = Consumers(broker, env.kafka, Service.suggester,
                          policy=FailurePolicy(max_attempts=3, backoff=Backoff(0.01, 0.05)))
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handle(event: ConsentChanged) -> None:
        seq = event.data.ledger_seq
        attempts[seq] = attempts.get(seq, 0) + 1
        if seq <= len(kinds) and attempts[seq] <= 2:  # each kind twice, then it works
            raise TRANSIENT_ERRORS[kinds[seq - 1]]()
        if seq == len(kinds) + 1:
            raise ValueError("a bug in the handler")
        handled.append(seq)

    consumers.subscribe(CONSENT, handle)
    async with broker:
        await broker.start()
        await eventually(consumers.ready, "partitions assigned", timeout_s=30)
        for seq in range(1, len(kinds) + 3):
            await publisher.publish(CONSENT, consent(1, seq), key="one-user")
        await broker.publish(b"{not json", topic=env.topic(CONSENT), key=b"one-user")
        await eventually(lambda: _async(len(handled) == len(kinds) + 1), "all handled",
                         timeout_s=60)
        letters = await read_records(env.kafka.bootstrap_servers, env.topic(DEAD_LETTERS),
                                     until=lambda rs: len(rs) >= 2, timeout_s=30)

    assert handled == [*range(1, len(kinds) + 1), len(kinds) + 2], "order kept, none lost"
    assert all(attempts[seq] == 3 for seq in range(1, len(kinds) + 1))
    assert attempts[len(kinds) + 1] == 3, "a bug is tried max_attempts times"
    dead = [DeadLetter.from_json(r.value).data for r in letters]
    assert sorted(d.error_type for d in dead) == ["ValidationError", "ValueError"]
    assert {d.consumer_group for d in dead} == {consumers.group(CONSENT)}
    assert consumers.group(CONSENT) == "suggester.consent" + env.suffix
    with pytest.raises(KeyError):
        consumers.group(MEDIA_ERASED.__class__("not.registered", (), frozenset()))


async def _async(value: bool) -> bool:
    return value
