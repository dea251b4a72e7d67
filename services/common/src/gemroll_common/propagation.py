"""Read-your-writes over Kafka: answer a change only once every service that projects it has
processed it.

A change is durable when its transaction commits, but the other services learn it from its
event. `Propagation.wait(key)` follows the event there: (1) published — no outbox row of that
key for the topic is left; (2) located — the key's partition (Kafka's default partitioning)
and the offset of its latest record there, read back as a read_committed reader sees it;
(3) applied — every consumer group the registry subscribes to the topic has committed an
offset past it (the consumer runner commits after its handler). Bounded: past `timeout_s`,
or with Kafka unreachable, the answer says which services had not caught up, never an error
(the change itself stands).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from gemroll_contracts import SUBSCRIPTIONS, Topic
from prometheus_client import Histogram

from .errors import is_transient
from .kafka import aiokafka_client_kwargs, key_partition, topic_name
from .logging import get_logger
from .settings import KafkaSettings

log = get_logger(__name__)

TAIL = 500
"""How far back from a partition's end the key's latest record is looked for."""

PROPAGATION_SECONDS = Histogram(
    "gemroll_change_propagation_seconds",
    "From a committed change to every subscribing service having processed its event.",
    ["topic", "in_effect"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))


@dataclass(frozen=True)
class Applied:
    in_effect: bool
    """Every subscribing service processed the change before the deadline."""
    waiting_for: tuple[str, ...] = ()
    """Services that had not (empty when in effect)."""


class Propagation:
    def __init__(self, pool: asyncpg.Pool, kafka: KafkaSettings, topic: Topic, *,
                 timeout_s: float, poll_s: float = 0.01, max_poll_s: float = 0.1) -> None:
        self._pool = pool
        self._kafka = kafka
        self._topic = topic
        self._name = topic_name(topic, kafka)
        self._groups = {s.group + kafka.topic_suffix: s.service.value
                        for s in SUBSCRIPTIONS if s.topic is topic}
        self._timeout_s = timeout_s
        self._poll_s = poll_s
        self._max_poll_s = max_poll_s
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._partitions = 0
        self._opening = asyncio.Lock()
        self._reading = asyncio.Lock()

    async def wait(self, key: str) -> Applied:
        """Until every subscriber processed the latest change of `key` (see the module)."""
        started = time.monotonic()
        pending = set(self._groups)
        stage, where = "publishing", dict[str, object]()
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._until(self._published, key)
                stage = "locating"
                tp, end = await self._located(key)
                stage, where = "applying", {"partition": tp.partition, "past": end}
                await self._until(self._applied, tp, end, pending, where)
        except TimeoutError:
            log.info("propagation_timed_out", topic=self._topic.name, stage=stage,
                     waiting_for=sorted(self._groups[g] for g in pending), **where)
        except Exception as exc:  # noqa: BLE001 - the change stands; only its reach is unknown
            await self._reset()
            (log.warning if is_transient(exc) else log.error)(
                "propagation_unknown", topic=self._topic.name, error_type=type(exc).__name__,
                error=str(exc)[:300])
        applied = Applied(not pending, tuple(sorted(self._groups[g] for g in pending)))
        PROPAGATION_SECONDS.labels(self._topic.name, str(applied.in_effect).lower()).observe(
            time.monotonic() - started)
        return applied

    async def _until(self, done, *args) -> None:  # type: ignore[no-untyped-def]
        delay = self._poll_s
        while not await done(*args):
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_poll_s)

    async def _published(self, key: str) -> bool:
        async with self._pool.acquire() as conn:
            return not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE topic = $1 AND message_key = $2)",
                self._topic.name, key)

    async def _located(self, key: str) -> tuple[TopicPartition, int]:
        """The key's partition and the offset just past the key's latest record (past the
        latest record at all when it is further back than `TAIL`). Not the end offset: a
        transaction's commit marker takes an offset that no consumer ever commits past."""
        async with self._reading:
            _, reader = await self._clients()
            tp = TopicPartition(self._name, key_partition(key.encode(), self._partitions))
            end = (await reader.end_offsets([tp]))[tp]
            reader.assign([tp])
            reader.seek(tp, max(0, end - TAIL))
            last_of_key = last_any = None
            while await reader.position(tp) < end:
                for record in (await reader.getmany(tp, timeout_ms=100)).get(tp, []):
                    if record.offset < end:
                        last_any = record.offset
                        if record.key == key.encode():
                            last_of_key = record.offset
            last = last_of_key if last_of_key is not None else last_any
            return tp, end if last is None else last + 1

    async def _applied(self, tp: TopicPartition, end: int, pending: set[str],
                       where: dict[str, object]) -> bool:
        admin, _ = await self._clients()
        for group in sorted(pending):
            offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
            meta = offsets.get(tp)
            where[self._groups[group]] = None if meta is None else meta.offset
            if meta is not None and meta.offset >= end:
                pending.discard(group)
        return not pending

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        async with self._opening:
            if self._admin is None or self._reader is None:
                kwargs = aiokafka_client_kwargs(self._kafka, "gemroll-propagation")
                admin = AIOKafkaAdminClient(**kwargs)
                reader = AIOKafkaConsumer(**kwargs, enable_auto_commit=False,
                                          isolation_level="read_committed")
                await admin.start()
                try:
                    await reader.start()
                    described = (await admin.describe_topics([self._name]))[0]
                    partitions = described["partitions"]
                    if described["error_code"] or not partitions:
                        raise KafkaError(f"topic {self._name} not found "
                                         f"(error {described['error_code']})")
                except BaseException:
                    await admin.close()
                    with contextlib.suppress(Exception):
                        await reader.stop()
                    raise
                self._partitions = len(partitions)
                self._admin, self._reader = admin, reader
            return self._admin, self._reader

    async def _reset(self) -> None:
        async with self._opening:
            admin, reader, self._admin, self._reader = self._admin, self._reader, None, None
        with contextlib.suppress(Exception):
            if admin is not None:
                await admin.close()
        with contextlib.suppress(Exception):
            if reader is not None:
                await reader.stop()

    async def close(self) -> None:
        await self._reset()


__all__ = ["Applied", "Propagation"]
