"""The training copy's adapter over the kit's store: its typed errors become the port's
(missing source: False; refused or not an image: UnusableSource; the store down:
StorageUnavailable, transient); the copy it writes carries no metadata."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import urllib3
from gemroll_common import video, video_privacy
from gemroll_common.errors import ObjectMissing, StoreRefused, StoreUnavailable, is_transient
from gemroll_common.media_privacy import find_metadata
from gemroll_policy.adapters.storage import MAX_SOURCE_BYTES, MAX_VIDEO_BYTES, S3TrainingObjects
from gemroll_policy.ports import StorageUnavailable, UnusableSource
from gemroll_testkit import clips, photos


class Reader:
    """An open object as the kit's ObjectReader gives it: chunks, then the rest."""

    def __init__(self, data: bytes, size: int | None = None) -> None:
        self.data, self.at = data, 0
        self.size = len(data) if size is None else size

    def chunks(self, size: int = 1024 * 1024):
        while self.at < len(self.data):
            self.at += size
            yield self.data[self.at - size:self.at]

    def read(self) -> bytes:
        rest, self.at = self.data[self.at:], len(self.data)
        return rest


class FakeStore:
    """The kit's ObjectStore as far as the adapter uses it."""

    bucket = "gemroll-media"

    def __init__(self, source: bytes = b"", *, size: int | None = None,
                 on_open: BaseException | None = None,
                 on_put: BaseException | None = None) -> None:
        self.source, self.size = source, size
        self.on_open, self.on_put = on_open, on_put
        self.written: dict[str, bytes] = {}

    async def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    @contextlib.contextmanager
    def open_sync(self, key: str, bucket: str | None = None) -> Iterator[Reader]:
        if self.on_open is not None:
            raise self.on_open
        yield Reader(self.source, self.size)

    def put_sync(self, key: str, stream: io.BytesIO, length: int, content_type: str) -> None:
        if self.on_put is not None:
            raise self.on_put
        self.written[key] = stream.read()


async def copy(store: FakeStore) -> bool:
    return await S3TrainingObjects(store).copy("gemroll-media", "users/u/media/m",  # type: ignore[arg-type]
                                               "training/s/c")


async def test_the_copy_is_the_picture_without_its_metadata():
    original = photos.phone_jpeg()
    assert find_metadata(original)
    store = FakeStore(original)
    assert await copy(store) is True
    written = store.written["training/s/c"]
    assert find_metadata(written) == []
    assert b"SERIAL-0042" not in written and b"Alice Example" not in written  # nor in a comment


async def test_a_video_copy_is_its_video_stream_without_tags_or_audio(tmp_path):
    original = clips.clip(container="mov", codec="hevc", audio=True, location=(48.8584, 2.2945),
                          created_at=datetime(2026, 5, 1, tzinfo=UTC))
    store = FakeStore(original)
    assert await copy(store) is True
    written = tmp_path / "copy.mp4"
    written.write_bytes(store.written["training/s/c"])
    assert video_privacy.find_metadata(written) == []
    assert video.probe(written).video_codec == "hevc"


@pytest.mark.parametrize("store", [
    FakeStore(clips.clip()[:3_000]),
    FakeStore(clips.clip()[:64], size=MAX_VIDEO_BYTES + 1),
], ids=["truncated", "too_large"])
async def test_a_video_that_can_never_be_copied_is_unusable(store):
    with pytest.raises(UnusableSource):
        await copy(store)
    assert store.written == {}


async def test_a_missing_source_is_false():
    assert await copy(FakeStore(on_open=ObjectMissing("read an object: NoSuchKey"))) is False


@pytest.mark.parametrize("error", [
    StoreUnavailable("object store failed to read an object"),
    urllib3.exceptions.ProtocolError("connection aborted"),  # untyped: classified all the same
    ConnectionRefusedError(111, "refused"),
])
async def test_the_store_down_is_storage_unavailable(error):
    with pytest.raises(StorageUnavailable) as raised:
        await copy(FakeStore(on_open=error))
    assert is_transient(raised.value)


@pytest.mark.parametrize("store", [
    FakeStore(on_open=StoreRefused("object store refused to read an object: AccessDenied")),
    FakeStore(b"\xff\xd8\xff\xe0 not an image at all"),
    FakeStore(b"", size=MAX_SOURCE_BYTES + 1),
    FakeStore(photos.phone_jpeg(), on_put=ObjectMissing("write an object: NoSuchBucket")),
    FakeStore(photos.phone_jpeg(), on_put=StoreRefused("refused to write an object")),
], ids=["refused", "not_an_image", "too_large", "no_training_bucket", "write_refused"])
async def test_a_source_that_can_never_be_copied_is_unusable(store):
    with pytest.raises(UnusableSource) as raised:
        await copy(store)
    assert not is_transient(raised.value)


async def test_an_error_of_our_own_is_not_disguised():
    with pytest.raises(KeyError):
        await copy(FakeStore(on_open=KeyError("a bug")))
