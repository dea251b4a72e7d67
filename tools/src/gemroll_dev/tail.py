"""`gemroll-dev tail`: follow topics and print each event as one readable line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from gemroll_contracts import (
    ALL_TOPICS,
    TOPICS_BY_NAME,
    ConsentChanged,
    DeadLetter,
    MediaClassified,
    MediaErased,
    MediaUploaded,
    SuggestionCreated,
    TrainingAdmitted,
    TrainingCandidate,
    TrainingRejected,
    TrainingRetracted,
    UserAction,
    parse_event,
)
from pydantic import ValidationError


def resolve_topic(name: str) -> str:
    """A registry topic by its full name or a short one: `media.classified`, `suggestions`."""
    if name in TOPICS_BY_NAME:
        return name
    matches = [t.name for t in ALL_TOPICS
               if t.name.removeprefix("gemroll.").rsplit(".v", 1)[0] == name]
    if len(matches) == 1:
        return matches[0]
    short = sorted(t.name.removeprefix("gemroll.").rsplit(".v", 1)[0] for t in ALL_TOPICS)
    raise KeyError(f"unknown topic {name!r}; one of: {', '.join(short)}")


def _id(value: Any) -> str:
    return str(value)[:8]


def summarize(event: Any) -> str:
    """The interesting fields of an event, short (ids cut to 8 characters)."""
    d = event.data
    match event:
        case MediaUploaded():
            when = d.captured_at.strftime("%Y-%m-%d %H:%M") if d.captured_at else "no time"
            return (f"media {_id(d.media_id)} {d.content_type} {d.width}x{d.height} "
                    f"{d.size_bytes / 1e6:.1f} MB, {when}")
        case MediaClassified():
            verdict = f"GEM {d.gem_score:.2f}" if d.is_gem else f"junk {d.gem_score:.2f}"
            reasons = ", ".join(d.reasons) or "-"
            return f"media {_id(d.media_id)} {d.category} {verdict} [{reasons}]"
        case SuggestionCreated():
            return (f"{d.kind} {_id(d.suggestion_id)} r{d.revision} \"{d.title}\" "
                    f"({len(d.media_ids)} photos)")
        case UserAction():
            on = f" on suggestion {_id(d.suggestion_id)}" if d.suggestion_id else ""
            return f"{d.action} media {_id(d.media_id)}{on}"
        case ConsentChanged():
            return (f"camera_roll={d.camera_roll} training_opt_out={d.training_opt_out}"
                    f"{' erase_data' if d.erase_data else ''} (ledger #{d.ledger_seq})")
        case TrainingCandidate():
            return f"candidate {_id(d.candidate_id)} media {_id(d.media_id)} from {d.source}"
        case TrainingAdmitted():
            return (f"ADMITTED media {_id(d.media_id)} basis={d.basis} "
                    f"evidence={len(d.evidence)} policy={d.policy_version}")
        case TrainingRejected():
            return f"rejected media {_id(d.media_id)} reason={d.reason}"
        case TrainingRetracted():
            return f"RETRACTED media {_id(d.media_id)} reason={d.reason}"
        case MediaErased():
            return f"erased {len(d.media_ids)} media, reason={d.reason}"
        case DeadLetter():
            return (f"from {d.source_topic}@{d.source_partition}:{d.source_offset} "
                    f"{d.error_type}: {d.error[:160]}")
    return ""


def user_of(event: Any) -> str | None:
    return getattr(event.data, "user_key", None)


async def follow(
    bootstrap: str,
    topics: Sequence[str],
    on_record: Callable[[str, Any | None, bytes, str | None], bool],
    *,
    from_beginning: bool = False,
    limit: int | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Read `topics` (full names, suffix included) without a consumer group, from their end
    (or beginning), calling `on_record(topic, event or None, raw, error)`, which returns
    whether the record counts (was shown, was wanted). Returns that count, after `limit`
    counted records or when `stop` is set. `on_ready()` is called once the start
    positions are fixed: every record produced after that is seen."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    seen = 0
    try:
        partitions: list[TopicPartition] = []
        for topic in topics:
            await consumer._client.add_topic(topic)  # noqa: SLF001 - waits for its metadata
            found = consumer.partitions_for_topic(topic)
            if not found:
                raise LookupError(f"topic {topic} does not exist (is the stack up?)")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolves the positions now, not at the first fetch
            await consumer.position(tp)
        if on_ready is not None:
            on_ready()
        while not (stop and stop.is_set()):
            batch = await consumer.getmany(timeout_ms=300)
            for tp, records in batch.items():
                for record in records:
                    if record.value is None:
                        continue
                    try:
                        event, error = parse_event(record.value), None
                    except ValidationError as exc:
                        event, error = None, str(exc).splitlines()[0]
                    seen += bool(on_record(tp.topic, event, record.value, error))
                    if limit is not None and seen >= limit:
                        return seen
    finally:
        await consumer.stop()
    return seen


def run_follow(*args: Any, **kwargs: Any) -> int:
    try:
        return asyncio.run(follow(*args, **kwargs))
    except KeyboardInterrupt:
        return 0
