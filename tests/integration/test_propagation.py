"""Read-your-writes over real Kafka and PostgreSQL (`gemroll_common.propagation`): a change is
in effect only once every consumer group subscribed to its topic processed its record."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from gemroll_common.consumer import Consumers
from gemroll_common.kafka import EventPublisher, aiokafka_client_kwargs, make_broker, topic_name
from gemroll_common.outbox import (
    OUTBOX_TABLE_SQL,
    OutboxMessage,
    OutboxRelay,
    append,
    delete_through,
    pending_rows,
    publisher_send,
)
from gemroll_common.propagation import Propagation
from gemroll_contracts import CONSENT, ConsentChanged, ConsentChangedData, Service, utcnow
from gemroll_policy.adapters.kafka_clients import CachedKeyPartitioner
from gemroll_testkit.isolation import Isolated

pytestmark = pytest.mark.integration

SUBSCRIBERS = (Service.ingest, Service.suggester, Service.policy)
"""The services the registry subscribes to the consent topic."""


def change(user: str, seq: int) -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=user, camera_roll=True, training_opt_out=False, ledger_seq=seq,
        changed_at=utcnow()))


@pytest.fixture
def env(isolated_env: Isolated) -> Isolated:
    return isolated_env


@pytest.fixture
async def pool(env: Isolated, unique: str) -> AsyncIterator[asyncpg.Pool]:
    name = f"prop_{unique}"
    pool = await asyncpg.create_pool(env.database.url.get_secret_value(), min_size=1,
                                     max_size=4, server_settings={"search_path": name})
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {name}")
        await conn.execute(OUTBOX_TABLE_SQL)
    yield pool
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
    await pool.close()


class Projection:
    """One subscriber: the consumer runner in the registry's group, a handler that can be
    held back (a slow or stuck service)."""

    def __init__(self, env: Isolated, service: Service) -> None:
        self.broker = make_broker(env.kafka, service)
        self.seen: list[tuple[str, int]] = []
        self.open = asyncio.Event()
        self.open.set()
        consumers = Consumers(self.broker, env.kafka, service)

        async def on_consent(event: ConsentChanged) -> None:
            await self.open.wait()
            self.seen.append((event.data.user_key, event.data.ledger_seq))

        consumers.subscribe(CONSENT, on_consent)


class TransactionalRelay:
    """Publishes outbox rows inside Kafka transactions, as the policy gate does: each
    transaction's commit marker takes an offset of its own."""

    def __init__(self, pool: asyncpg.Pool, env: Isolated) -> None:
        self.pool = pool
        self.producer = AIOKafkaProducer(
            **aiokafka_client_kwargs(env.kafka, "test-tx"), transactional_id=f"tx-{env.suffix}",
            enable_idempotence=True, partitioner=CachedKeyPartitioner())
        self.name = topic_name(CONSENT, env.kafka)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await self.producer.start()
        try:
            while True:
                async with self.pool.acquire() as conn:
                    rows = await pending_rows(conn)
                for row in rows:  # one transaction per row: a marker after each
                    async with self.producer.transaction():
                        await self.producer.send(self.name, row.payload, key=row.key.encode())
                    async with self.pool.acquire() as conn:
                        await delete_through(conn, row.id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.05)
                self._wake.clear()
        finally:
            await self.producer.stop()


@pytest.fixture(params=["idempotent", "transactional"])
async def world(request: pytest.FixtureRequest, env: Isolated, pool: asyncpg.Pool
                ) -> AsyncIterator[tuple[dict[Service, Projection], Any, Propagation]]:
    projections = {s: Projection(env, s) for s in SUBSCRIBERS}
    for p in projections.values():
        await p.broker.start()
    writer = make_broker(env.kafka, Service.policy)
    await writer.start()
    relay: OutboxRelay | TransactionalRelay = (
        OutboxRelay(pool, schema="prop", service="policy", idle_s=0.05,
                    send=publisher_send(EventPublisher(writer, env.kafka, Service.policy)))
        if request.param == "idempotent" else TransactionalRelay(pool, env))
    relaying = asyncio.create_task(relay.run())
    propagation = Propagation(pool, env.kafka, CONSENT, timeout_s=15)
    try:
        yield projections, relay, propagation
    finally:
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying
        await propagation.close()
        await writer.stop()
        for p in projections.values():
            await p.broker.stop()


async def commit_change(pool: asyncpg.Pool, relay: Any, user: str, seq: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, [OutboxMessage(CONSENT, user, change(user, seq))])
    relay.wake()


async def test_a_change_is_in_effect_once_every_subscriber_processed_it(world, pool) -> None:
    projections, relay, propagation = world
    for i in range(20):
        user = f"{i:02x}" * 16
        await commit_change(pool, relay, user, 1)
        applied = await propagation.wait(user)
        assert applied.in_effect and applied.waiting_for == ()
        for service, p in projections.items():  # no sleep: it must be there already
            assert (user, 1) in p.seen, f"{service} had not processed round {i}"


async def test_a_stuck_subscriber_is_named_and_the_wait_is_bounded(world, env, pool) -> None:
    projections, relay, _ = world
    quick = Propagation(pool, env.kafka, CONSENT, timeout_s=2)
    try:
        warm = "ee" * 16
        await commit_change(pool, relay, warm, 1)
        assert (await quick.wait(warm)).in_effect  # every group has its partitions now
        projections[Service.suggester].open.clear()
        user = "ab" * 16
        await commit_change(pool, relay, user, 1)
        started = asyncio.get_running_loop().time()
        applied = await quick.wait(user)
        assert not applied.in_effect and applied.waiting_for == ("suggester",)
        assert asyncio.get_running_loop().time() - started < 4
        projections[Service.suggester].open.set()
        assert (await quick.wait(user)).in_effect
        assert (user, 1) in projections[Service.suggester].seen
    finally:
        await quick.close()


async def test_unpublished_rows_of_the_user_are_waited_for(world, pool) -> None:
    """While the change is still in the outbox it is not in effect anywhere."""
    projections, relay, propagation = world
    user = "cd" * 16
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, [OutboxMessage(CONSENT, user, change(user, s)) for s in (1, 2)])
    # no wake: the relay publishes at its next poll; the wait must cover that
    applied = await propagation.wait(user)
    assert applied.in_effect
    assert all((user, 2) in p.seen for p in projections.values())

