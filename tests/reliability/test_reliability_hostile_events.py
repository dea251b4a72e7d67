"""Malformed records injected straight into every consumed topic: each consumer dead-letters
each of them with a reason, and a valid event sent after them is still processed. Valid events
carrying fields of a later contract version are processed too, never dead-lettered."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    MEDIA_UPLOADED,
    DeadLetter,
    Service,
    Topic,
    parse_event,
    subscription,
)
from gemroll_testkit import eventually
from gemroll_testkit.hostile import bad_records
from gemroll_testkit.hostile.events import CONSUMED, Media, later_version_records, valid_event
from gemroll_testkit.photos import shot
from gemroll_testkit.reliability.services import Pipeline
from gemroll_testkit.topics import produce, read_records

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def group_of(pipeline: Pipeline, topic: Topic, service: str) -> str:
    """The consumer group with which `service` reads `topic` (the registry's, suffixed)."""
    return subscription(Service(service), topic).group + pipeline.config.suffix


async def committed(pipeline: Pipeline, group: str, topic: str, partition: int) -> int:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.structs import TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline.config.endpoints.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        meta = offsets.get(TopicPartition(topic, partition))
        return meta.offset if meta is not None else -1
    finally:
        await admin.close()


@pytest.mark.parametrize("topic", list(CONSUMED), ids=lambda t: t.name)
async def test_malformed_records_are_dead_lettered_and_the_consumer_goes_on(
        pipeline: Pipeline, topic: Topic) -> None:
    cfg = pipeline.config
    bootstrap = cfg.endpoints.kafka_bootstrap
    name = cfg.topic(topic)
    account = f"hostile-{uuid.uuid4().hex}"
    media = Media(cfg.user_key(account), uuid.uuid4(), cfg.s3.bucket, "")
    media = Media(media.user_key, media.media_id, media.bucket,
                  f"users/{media.user_key}/media/{media.media_id}")
    await ObjectStore(cfg.s3).put_bytes(media.object_key, shot(3, seed=99).data, "image/jpeg")
    key = media.user_key.encode()  # one key: one partition, in this order
    bad = bad_records(topic, media)
    later = later_version_records(topic, media)
    valid = valid_event(topic, media)
    before = {r.partition: r.offset for r in await read_records(bootstrap, name)}
    await produce(bootstrap, name, *(b.value for b in bad), *later, valid.to_json(), key=key)

    ours = [r for r in await read_records(bootstrap, name) if r.key == key]
    assert len(ours) == len(bad) + len(later) + 1 and len({r.partition for r in ours}) == 1
    partition = ours[0].partition
    assert ours[0].offset > before.get(partition, -1)
    bad_offsets = {r.offset: b.name for r, b in zip(ours, bad, strict=False)
                   if b.must_dead_letter}
    later_offsets = {r.offset for r in ours[len(bad):-1]}
    valid_offset = ours[-1].offset

    # Every consumer of the topic moves past the valid event (it did not stall) ...
    for service in CONSUMED[topic]:
        group = group_of(pipeline, topic, service)

        async def past_valid(group: str = group) -> bool:
            return await committed(pipeline, group, name, partition) > valid_offset

        await eventually(past_valid, f"{group} past offset {valid_offset}", timeout_s=90)

    # ... after dead-lettering every bad record, with a reason; the valid one is not there.
    # (The policy gate commits its offsets before its relay publishes what it decided.)
    async def lettered() -> tuple[list[DeadLetter], set[tuple[str, str]]]:
        letters = [DeadLetter.from_json(r.value) for r in await read_records(
            bootstrap, cfg.topic(DEAD_LETTERS))]
        mine = [d for d in letters if d.data.source_topic == name
                and d.data.source_partition == partition
                and d.data.source_offset in (*bad_offsets, *later_offsets, valid_offset)]
        missing = {(service, bad_offsets[o]) for service in CONSUMED[topic] for o in bad_offsets
                   if not any(d.producer == service and d.data.source_offset == o for d in mine)}
        return mine, missing

    async def all_lettered() -> bool:
        return not (await lettered())[1]

    with contextlib.suppress(AssertionError):  # what is missing is asserted just below
        await eventually(all_lettered, "every bad record dead-lettered", timeout_s=30)
    mine, missing = await lettered()
    assert missing == set(), "not dead-lettered (service, record)"
    assert all(d.data.error and d.data.error_type for d in mine)
    assert [d for d in mine if d.data.source_offset == valid_offset] == []
    assert [(d.producer, d.data.error) for d in mine if d.data.source_offset in later_offsets
            ] == [], "a record with fields of a later version was refused"
    for d in mine:
        if d.data.original_value:
            assert d.data.original_value == ours[d.data.source_offset - ours[0].offset].value

    # The services are still alive and well.
    for service in CONSUMED[topic]:
        assert await pipeline.procs[service].healthy(), service
    if topic is MEDIA_UPLOADED:  # the valid upload was classified
        async def classified() -> bool:
            wanted = str(media.media_id).encode()
            return any(wanted in r.value and parse_event(r.value).producer == "classifier"
                       for r in await read_records(bootstrap, cfg.topic(MEDIA_CLASSIFIED)))

        await eventually(classified, "the valid MediaUploaded classified", timeout_s=90)

