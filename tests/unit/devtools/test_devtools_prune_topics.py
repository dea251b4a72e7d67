"""Which topics `make prune-topics` deletes: exactly a contract topic with the suffix
`isolate()` gives a test's copy, never the real topics nor the soak's or a benchmark's."""

from __future__ import annotations

import pytest
from gemroll_contracts import ALL_TOPICS, MEDIA_UPLOADED, TRAINING_MEDIA
from gemroll_dev.stack import StackEndpoints
from gemroll_dev.stack.kafka import is_isolated_topic, isolated_suffix
from gemroll_testkit.isolation import drop_isolated, isolated
from gemroll_testkit.processes import free_port

UPLOADED = MEDIA_UPLOADED.name


@pytest.mark.parametrize("name", [
    f"{UPLOADED}.t0123abcd",
    f"{TRAINING_MEDIA.name}.tdeadbeef",
    f"{UPLOADED}.t0123abcdl",  # the suggester benchmark's second env
    *(t.name + isolated_suffix("5f3e2a1b") for t in ALL_TOPICS),
])
def test_a_contract_topic_with_an_isolated_suffix_is_a_test_topic(name: str) -> None:
    assert is_isolated_topic(name)


@pytest.mark.parametrize("name", [
    *(t.name for t in ALL_TOPICS),  # the real topics
    f"{UPLOADED}.r0123abcd",  # the soak's pipeline (PipelineConfig.suffix)
    f"{UPLOADED}.bench0123abcd",  # the ingest benchmark
    f"{UPLOADED}.t0123abc",  # too short
    f"{UPLOADED}.t0123abcde",  # too long
    f"{UPLOADED}.t0123ABCD",  # not what uuid4().hex gives
    f"{UPLOADED}.t0123abcd.t0123abcd",
    f"{UPLOADED}.tc",  # unit tests' fake suffix
    f"{UPLOADED}t0123abcd",
    "gemroll.other.v1.t0123abcd",  # not a contract topic
    "gemroll.t0123abcd",
    "__consumer_offsets",
    "gemroll-test-0123abcd",
])
def test_anything_else_is_not(name: str) -> None:
    assert not is_isolated_topic(name)


def test_isolate_refuses_a_unique_that_prune_would_miss() -> None:
    assert isolated_suffix("0123abcd") == ".t0123abcd"
    for unique in ("", "abc", "0123abcd-x", "0123ABCD", "0123abcd.t"):
        with pytest.raises(ValueError, match="8 hex digits"):
            isolated_suffix(unique)


async def test_a_teardown_against_an_unreachable_broker_only_warns() -> None:
    nowhere = StackEndpoints(f"127.0.0.1:{free_port()}", "postgresql://x@127.0.0.1:1/x",
                             "http://127.0.0.1:1", "key", "secret")
    env = isolated(nowhere, suffix=isolated_suffix("0123abcd"), schema_suffix="_t0123abcd")
    with pytest.warns(UserWarning, match=r"could not delete the topics \*\.t0123abcd"):
        await drop_isolated(env)
