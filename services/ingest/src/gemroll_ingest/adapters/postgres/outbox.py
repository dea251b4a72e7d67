"""The ingest's outbox is the runtime kit's (`gemroll_common.outbox`): rows written with the
data they announce, published per user key in order (keys concurrently), deleted once Kafka
has them. Publishing a MediaUploaded marks its media announced (the pipeline status)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from gemroll_common.kafka import EventPublisher
from gemroll_common.outbox import RELAY_BACKOFF, OutboxRelay, OutboxRow, publisher_send
from gemroll_common.retry import Backoff
from gemroll_contracts import MediaUploaded, Service

from ...settings import IngestSettings


async def mark_announced(conn: asyncpg.Connection, published: Sequence[OutboxRow]) -> None:
    """The relay's `on_published` hook: these media's MediaUploaded left the outbox."""
    announced = [r.subject_id for r in published
                 if r.event_type == MediaUploaded.EVENT_TYPE and r.subject_id is not None]
    if announced:
        await conn.execute(
            "UPDATE media SET announced_at = clock_timestamp()"
            " WHERE media_id = ANY($1::uuid[]) AND announced_at IS NULL", announced)


def announcing_relay(pool: asyncpg.Pool, publisher: EventPublisher,
                     settings: IngestSettings) -> OutboxRelay:
    return OutboxRelay(
        pool, schema=settings.db_schema, service=Service.ingest.value,
        send=publisher_send(publisher, timeout_s=settings.publish_timeout_s),
        batch_size=settings.relay_batch_size, idle_s=settings.relay_idle_s,
        backoff=Backoff(RELAY_BACKOFF.first_s, settings.relay_max_backoff_s),
        on_published=mark_announced)
