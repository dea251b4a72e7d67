"""Generated contract documents: a JSON Schema per event and the AsyncAPI document.

    python -m gemroll_dev.contracts_docs write   # what `make contracts` runs
    python -m gemroll_dev.contracts_docs check   # exit 1 when the checked-in files are stale
"""

from __future__ import annotations

import json
import sys
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from gemroll_contracts import ALL_EVENTS, ALL_TOPICS, CONTRACTS_VERSION, Event, Topic

CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts"
SCHEMA_DIR = CONTRACTS_DIR / "schemas"
ASYNCAPI_FILE = CONTRACTS_DIR / "asyncapi.json"
TOPICS_FILE = CONTRACTS_DIR / "topics.json"


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_file_name(event: type[Event]) -> str:
    return f"{event.EVENT_TYPE}.v{event.SCHEMA_VERSION}.schema.json"


def event_schemas() -> dict[str, str]:
    documents = {}
    for event in ALL_EVENTS:
        schema = event.model_json_schema(mode="serialization")
        schema["$id"] = f"https://gemroll.dev/contracts/{schema_file_name(event)}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        documents[schema_file_name(event)] = _dump(schema)
    return documents


def topics_document() -> str:
    def describe(topic: Topic) -> dict[str, Any]:
        return {
            "name": topic.name,
            "description": topic.description,
            "visibility": topic.visibility.value,
            "key": topic.key,
            "partitions": topic.partitions,
            "config": topic.config,
            "events": [e.EVENT_TYPE for e in topic.events],
            "writers": sorted(w.value for w in topic.writers),
        }

    return _dump({"contracts_version": CONTRACTS_VERSION,
                  "topics": [describe(t) for t in ALL_TOPICS]})


def asyncapi_document() -> str:
    from faststream.kafka import KafkaBroker
    from faststream.specification import AsyncAPI

    broker = KafkaBroker(
        "kafka:9092",
        description="gemroll's event bus. Every topic is keyed by the opaque user key; values are "
        "JSON of the validated contract model. `gemroll.suggestions.v1` is the public API.",
    )
    for topic in ALL_TOPICS:
        payload = reduce(or_, topic.events) if len(topic.events) > 1 else topic.events[0]
        broker.publisher(
            topic.name,
            title=topic.name,
            description=f"[{topic.visibility.value}] {topic.description} "
            f"Written by: {', '.join(sorted(w.value for w in topic.writers))}.",
            schema=payload,
        )
    spec = AsyncAPI(broker, title="gemroll events", version=CONTRACTS_VERSION,
                    schema_version="3.0.0")
    return _dump(spec.to_specification().to_jsonable())


def expected_files() -> dict[Path, str]:
    files = {SCHEMA_DIR / name: text for name, text in event_schemas().items()}
    files[ASYNCAPI_FILE] = asyncapi_document()
    files[TOPICS_FILE] = topics_document()
    return files


def stale_files() -> list[Path]:
    stale = [p for p, text in expected_files().items()
             if not p.exists() or p.read_text() != text]
    known = set(expected_files())
    stale += [p for p in SCHEMA_DIR.glob("*.json") if p not in known]
    return stale


def write() -> None:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    files = expected_files()
    for old in SCHEMA_DIR.glob("*.json"):
        if old not in files:
            old.unlink()
    for path, text in files.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(CONTRACTS_DIR.parent)}")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "write":
        write()
        return 0
    if command == "check":
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run `make contracts`)", file=sys.stderr)
        return 1 if stale else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
