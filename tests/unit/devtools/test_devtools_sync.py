"""`gemroll sync` (gemroll_cli.sync) on a real folder with real file-system events
(watchfiles) and a fake ingest: new and changed photos go up as they appear, each once and
only when fully written; outages, a consent pause and restarts lose nothing; deletes and
hidden files do nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from gemroll_cli.client import ApiError, UploadAnswer
from gemroll_cli.sync import SyncTotals, sync_folder
from gemroll_cli.upload import UploadState

pytestmark = pytest.mark.timeout(60)


class FakeIngest:
    """The same bytes twice is a duplicate; while `down`, 503; while `refusing`, 403."""

    def __init__(self) -> None:
        self.received: dict[str, list[bytes]] = {}
        self.by_bytes: dict[bytes, str] = {}
        self.down = False
        self.refusing = False

    async def upload(self, path: Path, metadata=None,  # noqa: ARG002
                     *, on_bytes=lambda _: None) -> UploadAnswer:  # noqa: ARG002
        if self.down:
            raise ApiError("ingest", 503, "database_unavailable", "down", retry_after_s=0.01)
        if self.refusing:
            raise ApiError("ingest", 403, "consent_required", "opt in first")
        data = path.read_bytes()  # noqa: ASYNC240 - a fake, small files
        self.received.setdefault(path.name, []).append(data)
        if data in self.by_bytes:
            return UploadAnswer(self.by_bytes[data], "0" * 64, "duplicate")
        self.by_bytes[data] = f"m{len(self.by_bytes)}"
        return UploadAnswer(self.by_bytes[data], "0" * 64, "accepted")


class Running:
    def __init__(self, task: asyncio.Task[SyncTotals], stop: asyncio.Event,
                 totals: list[SyncTotals]) -> None:
        self.task, self.stop, self.seen = task, stop, totals

    async def finish(self) -> SyncTotals:
        self.stop.set()
        return await self.task


@contextlib.asynccontextmanager
async def syncing(ingest: FakeIngest, folder: Path, **options) -> AsyncIterator[Running]:
    stop = asyncio.Event()
    seen: list[SyncTotals] = []
    state = UploadState.load(folder / ".gemroll-state.json", ingest_url="http://i", user="ann")
    task = asyncio.create_task(sync_folder(
        ingest, folder, state, stop=stop, debounce_ms=100, settle_s=0.3,  # type: ignore[arg-type]
        retry_s=0.5, give_up_s=0.3, on_change=seen.append, **options))
    running = Running(task, stop, seen)
    try:
        yield running
    finally:
        if not task.done():
            await running.finish()


async def until(check: Callable[[], bool], what: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def photo(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def test_new_and_changed_photos_go_up_as_they_appear_and_nothing_else(tmp_path):
    folder = tmp_path / "roll"
    photo(folder, "old.jpg", b"old")
    ingest = FakeIngest()
    async with syncing(ingest, folder) as run:
        await until(lambda: "old.jpg" in ingest.received, "the photo already there")
        photo(folder, "new.jpg", b"new")
        photo(folder, "sub/deep.heic", b"deep")
        photo(folder, "notes.txt", b"not a photo")
        photo(folder, ".hidden.jpg", b"hidden")
        await until(lambda: {"new.jpg", "deep.heic"} <= ingest.received.keys(), "new photos")
        await asyncio.sleep(0.01)  # a later mtime than the first write
        photo(folder, "new.jpg", b"new, edited")
        await until(lambda: len(ingest.received["new.jpg"]) == 2, "the changed photo")
        (folder / "old.jpg").unlink()
        await asyncio.sleep(1.0)
        totals = await run.finish()
    assert ingest.received == {"old.jpg": [b"old"], "new.jpg": [b"new", b"new, edited"],
                               "deep.heic": [b"deep"]}
    assert (totals.uploaded, totals.duplicates, totals.rejected, totals.pending) == (4, 0, [], 0)


async def test_a_photo_still_being_written_is_sent_once_complete(tmp_path):
    folder = tmp_path / "roll"
    folder.mkdir()
    ingest = FakeIngest()
    async with syncing(ingest, folder) as run:
        await asyncio.sleep(0.3)
        with (folder / "big.jpg").open("wb") as out:
            for _ in range(8):  # a slow copy: 1.6 s, longer than the debounce and settle time
                out.write(b"x" * 1000)
                out.flush()
                await asyncio.sleep(0.2)
        await until(lambda: "big.jpg" in ingest.received, "the copied photo")
        await asyncio.sleep(1.0)
        await run.finish()
    assert ingest.received["big.jpg"] == [b"x" * 8000]


async def test_an_outage_and_a_consent_pause_lose_nothing(tmp_path):
    folder = tmp_path / "roll"
    folder.mkdir()
    ingest = FakeIngest()
    ingest.down = True
    async with syncing(ingest, folder) as run:
        for i in range(3):
            photo(folder, f"p{i}.jpg", f"p{i}".encode())
        await until(lambda: run.seen and run.seen[-1].pending == 3, "three files pending")
        ingest.down, ingest.refusing = False, True
        await until(lambda: run.seen[-1].paused is not None, "the consent pause reported")
        assert "consent_required" in (run.seen[-1].paused or "")
        ingest.refusing = False
        await until(lambda: len(ingest.received) == 3, "every photo after the outage")
        totals = await run.finish()
    assert sorted(ingest.received) == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert all(len(v) == 1 for v in ingest.received.values())
    assert (totals.uploaded, totals.pending, totals.paused) == (3, 0, None)


async def test_a_restart_sends_what_came_meanwhile_and_nothing_twice(tmp_path):
    folder = tmp_path / "roll"
    photo(folder, "a.jpg", b"a")
    ingest = FakeIngest()
    async with syncing(ingest, folder) as run:
        await until(lambda: "a.jpg" in ingest.received, "the first photo")
        await run.finish()
    photo(folder, "b.jpg", b"b")  # added while sync was not running
    photo(folder, "copy-of-a.jpg", b"a")  # the same bytes under another name
    async with syncing(ingest, folder) as run:
        await until(lambda: "b.jpg" in ingest.received and "copy-of-a.jpg" in ingest.received,
                    "what came while stopped")
        totals = await run.finish()
    assert ingest.received == {"a.jpg": [b"a"], "b.jpg": [b"b"], "copy-of-a.jpg": [b"a"]}
    assert (totals.uploaded, totals.duplicates) == (1, 1)


async def test_a_rescan_finds_what_no_event_announced(tmp_path):
    """Network file systems may send no events: the periodic rescan still finds the file."""
    folder = tmp_path / "roll"
    folder.mkdir()
    ingest = FakeIngest()

    async def deaf(*_args, stop_event, **_kwargs):  # a watcher that never reports anything
        await stop_event.wait()
        return
        yield  # noqa: B901 - an async generator

    async with syncing(ingest, folder, watch=deaf, rescan_s=0.5) as run:
        await asyncio.sleep(0.2)
        photo(folder, "quiet.jpg", b"quiet")
        await until(lambda: "quiet.jpg" in ingest.received, "the unannounced photo")
        await run.finish()
