"""The folder upload (gemroll_cli.upload): which files, the resume state, how each service
answer is handled, and a sample roll's manifest as upload metadata."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from gemroll_cli.client import ApiError, UploadAnswer
from gemroll_cli.upload import (
    UploadAborted,
    UploadState,
    camera_roll_files,
    manifest_metadata,
    upload_files,
)


def contents(path: Path) -> bytes:
    return path.read_bytes()


class FakeIngest:
    """Answers like the ingest: the same bytes twice is a duplicate; scripted errors first."""

    def __init__(self, errors: dict[str, list[ApiError]] | None = None) -> None:
        self.errors = errors or {}
        self.by_bytes: dict[bytes, str] = {}
        self.calls: list[tuple[str, object]] = []

    async def upload(self, path: Path, metadata=None, *, on_bytes=lambda _: None) -> UploadAnswer:
        self.calls.append((path.name, metadata))
        data = contents(path)
        on_bytes(len(data))  # sent, then answered (or refused)
        if self.errors.get(path.name):
            raise self.errors[path.name].pop(0)
        if data in self.by_bytes:
            return UploadAnswer(self.by_bytes[data], "0" * 64, "duplicate")
        self.by_bytes[data] = f"m{len(self.by_bytes)}"
        return UploadAnswer(self.by_bytes[data], "0" * 64, "accepted")


def roll(tmp_path: Path) -> Path:
    folder = tmp_path / "roll"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name, data in [("a.jpg", b"A"), ("b.PNG", b"B"), ("sub/c.heic", b"C"), ("d.webp", b"A"),
                       ("notes.txt", b"x"), (".hidden/e.jpg", b"E"), (".f.jpg", b"F")]:
        (folder / name).write_bytes(data)
    return folder


def state_of(folder: Path) -> UploadState:
    return UploadState.load(folder / ".state.json", ingest_url="http://ingest", user="ann")


def test_only_visible_images_in_a_stable_order(tmp_path):
    folder = roll(tmp_path)
    assert [p.relative_to(folder).as_posix() for p in camera_roll_files(folder)] == [
        "a.jpg", "b.PNG", "d.webp", "sub/c.heic"]


async def test_uploads_records_and_skips_duplicates(tmp_path):
    folder = roll(tmp_path)
    files = camera_roll_files(folder)
    ingest = FakeIngest()
    done = []
    summary = await upload_files(ingest, folder, files, state_of(folder), concurrency=1,
                                 on_done=lambda result, path: done.append(path.name))
    assert summary.count("accepted") == 3
    assert summary.count("duplicate") == 1  # d.webp has a.jpg's bytes
    assert summary.media_ids["d.webp"] == summary.media_ids["a.jpg"]
    assert sorted(done) == sorted(p.name for p in files)
    saved = json.loads((folder / ".state.json").read_text())
    assert saved["user"] == "ann" and set(saved["files"]) == {
        "a.jpg", "b.PNG", "d.webp", "sub/c.heic"}


async def test_a_second_run_resumes_and_sends_only_what_changed(tmp_path):
    folder = roll(tmp_path)
    files = camera_roll_files(folder)
    ingest = FakeIngest()
    await upload_files(ingest, folder, files, state_of(folder))
    ingest.calls.clear()
    (folder / "b.PNG").write_bytes(b"B2")
    os.utime(folder / "b.PNG", ns=(1, 1))
    again = await upload_files(ingest, folder, files, state_of(folder))
    assert [name for name, _ in ingest.calls] == ["b.PNG"]
    assert sum(r.resumed for r in again.results) == 3


def test_state_of_another_service_or_user_is_not_reused(tmp_path):
    folder = roll(tmp_path)
    state = state_of(folder)
    state.record("a.jpg", folder / "a.jpg", "accepted", media_id="m0")
    assert UploadState.load(state.path, ingest_url="http://ingest", user="ann").files
    assert not UploadState.load(state.path, ingest_url="http://other", user="ann").files
    assert not UploadState.load(state.path, ingest_url="http://ingest", user="bob").files


async def test_refused_files_are_recorded_and_the_rest_goes_on(tmp_path):
    folder = roll(tmp_path)
    ingest = FakeIngest({"b.PNG": [ApiError("ingest", 415, "unsupported_media_type", "no")]})
    summary = await upload_files(ingest, folder, camera_roll_files(folder), state_of(folder))
    assert summary.count("rejected") == 1
    rejected = next(r for r in summary.results if r.entry.status == "rejected")
    assert rejected.name == "b.PNG" and "unsupported_media_type" in rejected.entry.error
    assert summary.count("accepted") == 2


async def test_passing_errors_are_retried(tmp_path):
    folder = roll(tmp_path)
    ingest = FakeIngest({"a.jpg": [ApiError("ingest", 503, "storage_unavailable", "later"),
                                   ApiError("ingest", 409, "upload_in_progress", "retry"),
                                   ApiError("ingest", 0, "unreachable", "down")]})
    sent: list[int] = []
    files = camera_roll_files(folder)
    summary = await upload_files(ingest, folder, files, state_of(folder),
                                 backoff_s=0.001, on_bytes=sent.append)
    assert not summary.failed
    assert [name for name, _ in ingest.calls].count("a.jpg") == 4
    assert summary.count("accepted") == 3
    # Progress counts each file's bytes once: a failed attempt's bytes are taken back.
    assert sum(sent) == sum(p.stat().st_size for p in files)
    assert sent.count(-1) == 3


async def test_a_service_that_stays_down_fails_the_file_for_a_later_run(tmp_path):
    folder = roll(tmp_path)
    down = [ApiError("ingest", 503, "storage_unavailable", "later") for _ in range(10_000)]
    summary = await upload_files(FakeIngest({"a.jpg": down}), folder, camera_roll_files(folder),
                                 state_of(folder), backoff_s=0.001, give_up_s=0.2)
    assert [name for name, _ in summary.failed] == ["a.jpg"]
    assert "a.jpg" not in state_of(folder).files  # so the next run sends it again


async def test_a_retry_waits_at_least_what_the_service_asks(tmp_path, monkeypatch):
    folder = roll(tmp_path)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("gemroll_cli.upload.asyncio.sleep", recorded)
    busy = ApiError("ingest", 503, "upload_in_progress", "retry", retry_after_s=5.0)
    summary = await upload_files(FakeIngest({"a.jpg": [busy, busy]}), folder,
                                 camera_roll_files(folder), state_of(folder), backoff_s=0.001)
    assert not summary.failed and waits == [5.0, 5.0]


async def test_missing_consent_stops_the_whole_upload(tmp_path):
    folder = roll(tmp_path)
    refusal = ApiError("ingest", 403, "consent_required", "opt in first")
    ingest = FakeIngest({p.name: [refusal] for p in camera_roll_files(folder)})
    with pytest.raises(UploadAborted) as caught:
        await upload_files(ingest, folder, camera_roll_files(folder), state_of(folder),
                           concurrency=1)
    assert caught.value.error.code == "consent_required"
    assert len(ingest.calls) == 1


def test_a_plain_folder_has_no_metadata(tmp_path):
    folder = roll(tmp_path)
    assert manifest_metadata(folder)(folder / "a.jpg") is None


def test_a_sample_rolls_manifest_gives_capture_times_and_albums(tmp_path):
    from gemroll_dev.samples import catalog
    from gemroll_dev.samples.build import _manifest_item, _Written
    from gemroll_dev.samples.manifest import Manifest
    from gemroll_dev.samples.plan import plan_camera_roll

    planned = plan_camera_roll("demo", 0)
    items = [_manifest_item(i, _Written(i.file_name, (640, 480), 100, "0" * 64)) for i in planned]
    Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=items).write(tmp_path)
    titles = {e.key: e.title for e in catalog.EVENTS}
    metadata = manifest_metadata(tmp_path)
    for item in items:
        expected = {"captured_at": item.captured_at.isoformat()}
        if item.event in titles:
            expected["album"] = titles[item.event][:200]
        assert metadata(tmp_path / item.file_name) == expected
    assert any("album" in metadata(tmp_path / i.file_name) for i in items)
    assert metadata(tmp_path / "not-in-the-manifest.jpg") is None
