"""The checked-in JSON Schemas, topic list and AsyncAPI document match the contracts."""

from __future__ import annotations

import json

from gemroll_contracts import ALL_TOPICS, SUGGESTIONS, Visibility
from gemroll_dev import contracts_docs


def test_generated_documents_are_up_to_date() -> None:
    stale = contracts_docs.stale_files()
    assert not stale, f"stale contract documents (run `make contracts`): {stale}"


def test_asyncapi_documents_every_topic_and_the_public_suggestion_events() -> None:
    doc = json.loads(contracts_docs.ASYNCAPI_FILE.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert {t.name for t in ALL_TOPICS} <= set(doc["channels"])
    assert "[public]" in doc["channels"][SUGGESTIONS.name]["description"]
    schemas = doc["components"]["schemas"]
    assert "SuggestionCreated" in schemas
    assert "SuggestionCreatedData" in schemas


def test_registry_is_consistent() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    for topic in ALL_TOPICS:
        assert topic.name.startswith("gemroll.") and topic.name.rsplit(".", 1)[1] == "v1"
        assert topic.partitions >= 1 and topic.events
    training = [t for t in ALL_TOPICS if t.visibility is Visibility.training]
    assert {t.name for t in training} == {"gemroll.training.media.v1",
                                           "gemroll.training.decisions.v1"}
    assert all({w.value for w in t.writers} == {"policy"} for t in training)
