"""Upload a folder of photos: concurrent, resumable through a local state file, and skipping
what the service already has (its 200 `duplicate` answer)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .client import ApiError, GemrollClient
from .tokens import user_key_of

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".avif", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm"})
MEDIA_SUFFIXES = PHOTO_SUFFIXES | VIDEO_SUFFIXES
"""What a camera roll holds; the ingest judges every file by its bytes all the same."""
FATAL_CODES = frozenset({"consent_required", "missing_token", "invalid_token"})
"""Refusals that will not change from one file to the next: stop the whole upload."""
TRANSIENT_CODES = frozenset({"upload_in_progress"})
"""Refusals that pass: the same bytes are being stored by a parallel request right now."""
GIVE_UP_S = 600.0
"""How long one file is retried through transient trouble before it counts as failed."""
MAX_WAIT_S = 30.0
MANIFEST_NAME = "manifest.json"
"""A sample roll's labels, next to its photos."""


def _permanent(error: ApiError) -> bool:
    """A 4xx about this file (bad type, too large, corrupt): retrying will not help."""
    return (400 <= error.status < 500 and error.status not in (408, 429)
            and error.code not in TRANSIENT_CODES)


def camera_roll_files(folder: Path) -> list[Path]:
    """The photos and videos in `folder` and below, in a stable order (hidden files left
    out)."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


@dataclass
class Entry:
    size: int
    mtime_ns: int
    status: str
    """`accepted`, `duplicate` or `rejected`."""
    media_id: str | None = None
    sha256: str | None = None
    error: str | None = None


@dataclass
class UploadState:
    """What an earlier run already did, per file relative to the folder. Written after every
    file, so an interrupted upload goes on where it stopped."""

    path: Path
    ingest_url: str
    user: str
    files: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, ingest_url: str, user: str) -> UploadState:
        """The state in `path`, or an empty one when there is none for this service and user."""
        try:
            raw = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            return cls(path, ingest_url, user)
        if raw.get("ingest_url") != ingest_url or raw.get("user") != user:
            return cls(path, ingest_url, user)
        files = {name: Entry(**entry) for name, entry in raw.get("files", {}).items()}
        return cls(path, ingest_url, user, files)

    def save(self) -> None:
        data = {"ingest_url": self.ingest_url, "user": self.user,
                "files": {name: asdict(e) for name, e in sorted(self.files.items())}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.path)

    def done(self, name: str, path: Path) -> Entry | None:
        """The recorded outcome for `name` if the file has not changed since."""
        entry = self.files.get(name)
        stat = path.stat()
        if entry and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
            return entry
        return None

    def record(self, name: str, path: Path, entry_status: str, *, media_id: str | None = None,
               sha256: str | None = None, error: str | None = None) -> Entry:
        stat = path.stat()
        entry = Entry(stat.st_size, stat.st_mtime_ns, entry_status, media_id, sha256, error)
        self.files[name] = entry
        self.save()
        return entry


def default_state_file(folder: Path, user: str) -> Path:
    return folder / f".gemroll-upload-{user_key_of(user)[:12]}.json"


@dataclass(frozen=True)
class FileResult:
    name: str
    entry: Entry
    resumed: bool
    """True when an earlier run had already done it (nothing sent now)."""


@dataclass
class UploadSummary:
    results: list[FileResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Files that could not be sent now (service errors); a later run retries them."""

    def count(self, status: str, *, resumed: bool | None = None) -> int:
        return sum(1 for r in self.results if r.entry.status == status
                   and (resumed is None or r.resumed == resumed))

    @property
    def media_ids(self) -> dict[str, str]:
        """File name -> media id, for everything the service holds."""
        return {r.name: r.entry.media_id for r in self.results if r.entry.media_id}


class UploadAborted(RuntimeError):
    def __init__(self, error: ApiError, summary: UploadSummary) -> None:
        super().__init__(str(error))
        self.error = error
        self.summary = summary


async def upload_files(
    client: GemrollClient,
    folder: Path,
    files: Sequence[Path],
    state: UploadState,
    *,
    metadata: Callable[[Path], Mapping[str, Any] | None] = lambda _: None,
    concurrency: int = 4,
    on_done: Callable[[FileResult | None, Path], None] = lambda *_: None,
    on_bytes: Callable[[int], None] = lambda _: None,
    backoff_s: float = 0.25,
    give_up_s: float = GIVE_UP_S,
) -> UploadSummary:
    """Upload `files` (inside `folder`) with `concurrency` requests in flight. Calls
    `on_done(result, path)` after each file (result None: failed for now) and `on_bytes(n)` as
    bytes go out (negative when an attempt failed and its bytes will be sent again). Transient
    trouble (the service unreachable, 5xx, 429, the same photo being stored right now) is retried
    with exponential backoff from `backoff_s`, at least the service's Retry-After, for up to
    `give_up_s` per file. Raises UploadAborted on a refusal that applies to every file (no
    consent, bad token)."""
    summary = UploadSummary()
    queue: asyncio.Queue[Path] = asyncio.Queue()
    for path in files:
        queue.put_nowait(path)
    fatal: list[ApiError] = []

    async def send(path: Path) -> None:
        name = path.relative_to(folder).as_posix()
        if (entry := state.done(name, path)) is not None:
            result = FileResult(name, entry, resumed=True)
            summary.results.append(result)
            on_done(result, path)
            return
        deadline = time.monotonic() + give_up_s
        for attempt in itertools.count(1):
            sent = 0

            def count(n: int) -> None:
                nonlocal sent
                sent += n
                on_bytes(n)

            try:
                answer = await client.upload(path, metadata(path), on_bytes=count)
            except ApiError as exc:
                on_bytes(-sent)
                if exc.code in FATAL_CODES:
                    fatal.append(exc)
                    return
                if _permanent(exc):
                    entry = state.record(name, path, "rejected", error=f"{exc.code}: {exc.message}")
                    result = FileResult(name, entry, resumed=False)
                    summary.results.append(result)
                    on_done(result, path)
                    return
                wait = min(max(backoff_s * 2 ** min(attempt, 16), exc.retry_after_s or 0.0),
                           MAX_WAIT_S)
                if time.monotonic() + wait > deadline:
                    summary.failed.append((name, str(exc)))
                    on_done(None, path)
                    return
                await asyncio.sleep(wait)
            else:
                entry = state.record(name, path, answer.status, media_id=answer.media_id,
                                     sha256=answer.sha256)
                result = FileResult(name, entry, resumed=False)
                summary.results.append(result)
                on_done(result, path)
                return

    async def worker() -> None:
        while not fatal:
            try:
                path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await send(path)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    if fatal:
        raise UploadAborted(fatal[0], summary)
    return summary


def file_size_total(files: Sequence[Path]) -> int:
    return sum(os.path.getsize(p) for p in files)


def manifest_metadata(folder: Path) -> Callable[[Path], Mapping[str, Any] | None]:
    """Upload metadata from a sample roll's `manifest.json` (what `gemroll_dev.samples`
    writes): capture time with its zone, and the event as album; nothing for a plain folder,
    where the photos' EXIF is all there is."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return lambda _: None
    manifest = json.loads(path.read_text())
    titles = {e["key"]: e["title"] for e in manifest.get("events", [])}
    by_name: dict[str, dict[str, Any]] = {}
    for item in manifest.get("items", []):
        captured_at = datetime.fromisoformat(item["captured_at"])
        meta: dict[str, Any] = {"captured_at": captured_at.isoformat()}
        if item.get("event") in titles:
            meta["album"] = titles[item["event"]][:200]
        by_name[item["file_name"]] = meta
    return lambda p: by_name.get(p.relative_to(folder).as_posix())
