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


def _objects_forbidding_new_fields(node: object, path: str = "$") -> list[str]:
    found = []
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            found.append(path)
        for key, value in node.items():
            found += _objects_forbidding_new_fields(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects_forbidding_new_fields(value, f"{path}[{i}]")
    return found


def test_published_schemas_let_readers_accept_fields_a_later_version_adds() -> None:
    """A subscriber validating with the checked-in schemas must not refuse a compatible
    change (readers ignore unknown fields; producers stay strict in code)."""
    documents = [*contracts_docs.SCHEMA_DIR.glob("*.schema.json"), contracts_docs.ASYNCAPI_FILE]
    assert len(documents) >= 10
    forbidding = {d.name: _objects_forbidding_new_fields(json.loads(d.read_text()))
                  for d in documents}
    assert {name: paths for name, paths in forbidding.items() if paths} == {}
