"""Ongoing sync: watch a folder and upload new and changed photos as they appear.

Built on the folder upload (`upload.upload_files`: the resumable state file, duplicates
answered by the service, transient trouble retried with backoff). At start everything not yet
uploaded goes; then file-system events (watchfiles) are debounced and a file is sent once it
has stopped changing (size and modification time steady for `settle_s`), so a photo still
being copied in is never sent half-written. What could not be sent (the service down for
longer than `give_up_s`, consent switched off, a token expired) stays pending and is tried
again every `retry_s`; a rescan every `rescan_s` catches what a watcher can miss (network
file systems, files added while sync was not running). Deleting or renaming a local file
does nothing to what was uploaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any, Protocol

from .client import GemrollClient
from .upload import (
    MEDIA_SUFFIXES,
    FileResult,
    UploadAborted,
    UploadState,
    camera_roll_files,
    upload_files,
)

DEBOUNCE_MS = 1500
SETTLE_S = 1.0
RETRY_S = 30.0
RESCAN_S = 300.0


class Watch(Protocol):
    """`watchfiles.awatch`, or a stand-in with its shape."""

    def __call__(self, folder: Path, *, stop_event: asyncio.Event, debounce: int,
                 force_polling: bool | None) -> AsyncIterator[set[tuple[Any, str]]]: ...


@dataclass
class SyncTotals:
    uploaded: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(file, reason) the service refused for good (not an image it takes, too large...)."""
    pending: int = 0
    """Files waiting to be sent (still changing, or to be retried)."""
    paused: str | None = None
    """Why nothing can be sent right now (e.g. `consent_required`), else None."""
    passes: int = 0

    def add(self, result: FileResult) -> None:
        if result.resumed:
            return
        status = result.entry.status
        if status == "accepted":
            self.uploaded += 1
        elif status == "duplicate":
            self.duplicates += 1
        else:
            self.rejected.append((result.name, result.entry.error or status))


def wanted(folder: Path, path: Path) -> bool:
    """A photo or video under `folder`, not hidden (the state file and editors' temp files
    are)."""
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        return False
    return (path.suffix.lower() in MEDIA_SUFFIXES
            and not any(part.startswith(".") for part in parts))


def _changed_photos(folder: Path, paths: Iterable[Path]) -> set[Path]:
    """The photos among changed paths; a new folder is scanned whole (files created in it
    before the watcher followed it send no event of their own)."""
    found = set()
    for path in paths:
        if path.is_dir():
            if wanted(folder, path / "x.jpg"):
                found.update(camera_roll_files(path))
        elif wanted(folder, path):
            found.add(path)
    return found


def _settled(path: Path, now: float, settle_s: float) -> bool | None:
    """True: unchanged for `settle_s`; False: still being written; None: gone (or not a
    file)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return now - stat.st_mtime >= settle_s


async def sync_folder(
    client: GemrollClient,
    folder: Path,
    state: UploadState,
    *,
    stop: asyncio.Event,
    watch: Watch | None = None,
    concurrency: int = 4,
    debounce_ms: int = DEBOUNCE_MS,
    settle_s: float = SETTLE_S,
    retry_s: float = RETRY_S,
    rescan_s: float = RESCAN_S,
    give_up_s: float = 600.0,
    force_polling: bool = False,
    metadata: Callable[[Path], Any] = lambda _: None,
    on_change: Callable[[SyncTotals], None] = lambda _: None,
) -> SyncTotals:
    """Keep the service in step with `folder` until `stop` is set; returns the totals."""
    if watch is None:
        from watchfiles import awatch

        watch = awatch  # type: ignore[assignment]
    totals = SyncTotals()
    pending: set[Path] = set(camera_roll_files(folder))
    seen = asyncio.Event()
    seen.set()

    async def watching() -> None:
        assert watch is not None
        async for changes in watch(folder, stop_event=stop, debounce=debounce_ms,
                                   force_polling=force_polling):
            pending.update(_changed_photos(folder, (Path(name) for _, name in changes)))
            seen.set()

    watcher = asyncio.create_task(watching())
    next_retry = time.monotonic()
    next_rescan = next_retry + rescan_s
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_rescan:
                pending.update(camera_roll_files(folder))
                next_rescan = now + rescan_s
            ready, waiting = _split(pending, time.time(), settle_s)
            pending.clear()  # gone files are dropped; nothing else runs until the next await
            pending.update(waiting)
            if ready and now >= next_retry:
                left = await _send(client, folder, sorted(ready), state, totals,
                               concurrency=concurrency, give_up_s=give_up_s,
                               metadata=metadata, on_change=on_change)
                if left:
                    pending.update(left)
                    next_retry = time.monotonic() + retry_s
            elif ready:
                pending.update(ready)
            totals.pending = len(pending)
            on_change(totals)
            seen.clear()
            if waiting:  # look again once they may have settled
                wake = settle_s
            elif pending:  # to be retried
                wake = next_retry - time.monotonic()
            else:
                wake = next_rescan - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(seen, stop), max(0.05, wake))
    finally:
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    totals.pending = len(pending)
    return totals


def _split(paths: Iterable[Path], now: float, settle_s: float) -> tuple[set[Path], set[Path]]:
    """(ready to send, still changing); files that are gone are dropped."""
    ready, waiting = set(), set()
    for path in paths:
        settled = _settled(path, now, settle_s)
        if settled:
            ready.add(path)
        elif settled is False:
            waiting.add(path)
    return ready, waiting


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def _send(client: GemrollClient, folder: Path, files: list[Path], state: UploadState,
                totals: SyncTotals, *, concurrency: int, give_up_s: float,
                metadata: Callable[[Path], Any],
                on_change: Callable[[SyncTotals], None]) -> set[Path]:
    """Upload `files`; returns those to try again later."""
    def done(result: FileResult | None, _path: Path) -> None:
        if result is not None:
            totals.add(result)
            on_change(totals)

    try:
        summary = await upload_files(client, folder, files, state, concurrency=concurrency,
                                     metadata=metadata, on_done=done, give_up_s=give_up_s)
    except UploadAborted as exc:
        totals.paused = f"{exc.error.code}: {exc.error.message}"
        answered = {folder / r.name for r in exc.summary.results}
        return set(files) - answered
    totals.paused = None
    totals.passes += 1
    return {folder / name for name, _ in summary.failed}


__all__ = ["SyncTotals", "sync_folder", "wanted"]
