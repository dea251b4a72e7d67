"""A "next version" of the contracts with a compatible change, for rolling upgrades.

`next_contracts` copies the contracts package the tests run on (never the tree's files) and
adds one optional field, `NEXT_FIELD`, to the data of the events every service publishes; a
service started with `next_build_env` on its PYTHONPATH imports that copy first, so every
record it writes carries the field. `carries_next_field` tells its records apart, and
`PublicReader` is a plain consumer on the contracts of the test process (the old ones) that
reads the public topic the whole time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import gemroll_contracts
from aiokafka import AIOKafkaConsumer
from gemroll_contracts import SUGGESTIONS, parse_event
from pydantic import ValidationError

NEXT_FIELD = "rollout_note"
NEXT_VALUE = "contracts-next"
NEXT_MODELS: dict[str, tuple[str, ...]] = {
    "media.py": ("MediaUploadedData", "MediaClassifiedData"),
    "suggestions.py": ("SuggestionCreatedData",),
    "users.py": ("UserActionData", "ConsentChangedData"),
    "training.py": ("TrainingCandidateData", "TrainingAdmittedData", "TrainingRejectedData"),
}
"""The data models that get the new field: what ingest, classifier, suggester and policy
publish."""


def next_contracts(dest: Path) -> Path:
    """Copy the imported contracts package under `dest` and add `NEXT_FIELD` (optional, a
    default the new producers fill in) to `NEXT_MODELS`. Returns the folder to put first on
    PYTHONPATH."""
    source = Path(gemroll_contracts.__file__).parent
    package = dest / source.name
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__"))
    line = f'    {NEXT_FIELD}: str | None = "{NEXT_VALUE}"\n'
    for module, models in NEXT_MODELS.items():
        path = package / module
        text = path.read_text()
        for model in models:
            head = re.compile(rf"^class {model}\(StrictModel\):\n", re.MULTILINE)
            text, found = head.subn(lambda m: m.group(0) + line, text)
            if found != 1:
                raise LookupError(f"class {model} not found in {path}")
        path.write_text(text)
    return dest


def next_build_env(folder: Path) -> dict[str, str]:
    """The environment that makes a service import the package under `folder` first."""
    rest = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(folder), *([rest] if rest else [])])}


def imports_next(env: dict[str, str]) -> bool:
    """Whether a Python process with `env` imports the patched contracts."""
    probe = (f"import gemroll_contracts as c; "
             f"print({NEXT_FIELD!r} in c.MediaUploadedData.model_fields)")
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env},
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip() == "True"


_SAMPLE_EVENTS = """
import sys, uuid
from gemroll_testkit.hostile.events import CONSUMED, Media, valid_event
media = Media("ab" * 16, uuid.uuid4(), "gemroll-media", "users/ab/media/1.jpg")
for topic in CONSUMED:
    sys.stdout.buffer.write(valid_event(topic, media).to_json() + b"\\n")
"""


def next_sample_events(env: dict[str, str]) -> list[bytes]:
    """One valid event of every consumed topic, as a process on the next contracts writes it."""
    out = subprocess.run([sys.executable, "-c", _SAMPLE_EVENTS], env={**os.environ, **env},
                         capture_output=True, check=True, timeout=120)
    return out.stdout.splitlines()


def refused_by_this_process(values: list[bytes]) -> list[str]:
    """The records the contracts of this process refuse, with the first reason."""
    refused = []
    for value in values:
        try:
            parse_event(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            refused.append(f"{json.loads(value)['event_type']}: {first['type']} "
                           f"{'.'.join(map(str, first['loc']))}")
    return refused


def carries_next_field(value: bytes) -> bool:
    """The record was written by a service on the next contracts."""
    try:
        data = json.loads(value).get("data")
    except (ValueError, AttributeError, RecursionError):
        return False
    return isinstance(data, dict) and data.get(NEXT_FIELD) == NEXT_VALUE


@dataclass
class PublicReader:
    """A subscriber of the public topic that never upgrades: its own consumer group, the
    contracts of this process, every record parsed as it arrives."""

    bootstrap: str
    topic: str
    group: str
    read: int = 0
    with_next_field: int = 0
    refused: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PublicReader:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(self.topic, bootstrap_servers=self.bootstrap,
                                    group_id=self.group, auto_offset_reset="earliest",
                                    isolation_level="read_committed", enable_auto_commit=True)
        await consumer.start()
        try:
            async for record in consumer:
                self.read += 1
                self.with_next_field += carries_next_field(record.value or b"")
                try:
                    if not SUGGESTIONS.accepts(parse_event(record.value or b"")):
                        self.refused.append(f"{record.partition}@{record.offset}: not ours")
                except ValidationError as exc:
                    first = exc.errors()[0]
                    self.refused.append(f"{record.partition}@{record.offset}: "
                                        f"{first['type']} {'.'.join(map(str, first['loc']))}")
        finally:
            await consumer.stop()
