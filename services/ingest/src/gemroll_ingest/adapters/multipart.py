"""Streams a multipart/form-data upload to a temporary file, hashing as it goes.

Nothing is read past the size limit: the part is counted while it arrives and the request is
refused (TooLarge) the moment it grows beyond `max_file_bytes` (a photo's) or, once its first
bytes show a video, `max_video_bytes`. File data is written in
batches of about 1 MiB from a worker thread (hashing releases the GIL there), so memory per
upload stays around that batch size whatever the file size.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from gemroll_common.sniff import SNIFF_BYTES
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from ..domain.errors import InvalidMetadata, InvalidRequest, MultipartRequired, TooLarge
from ..domain.media import StagedFile
from ..domain.video import size_limit

FLUSH_BYTES = 1024 * 1024
FILE_FIELD = "file"
METADATA_FIELD = "metadata"


class FileSink:
    """A temporary file fed in batches, hashed on the way; removed on `discard`."""

    def __init__(self, spool_dir: str | None, max_bytes: int,
                 max_video_bytes: int | None = None) -> None:
        self._spool_dir = spool_dir
        self._max_bytes = max_bytes
        self._max_video_bytes = max_bytes if max_video_bytes is None else max_video_bytes
        self._limit: int | None = None
        """Fixed once the head tells a photo from a video."""
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._hash = hashlib.sha256()
        self._file: IO[bytes] | None = None
        self.path: str | None = None
        self.size = 0
        self.head = b""

    def add(self, data: bytes) -> None:
        """Called from the parser callback: count (refusing past the limit) and buffer."""
        self.size += len(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        limit = self._limit or size_limit(self.head, photo_bytes=self._max_bytes,
                                          video_bytes=self._max_video_bytes)
        if len(self.head) >= SNIFF_BYTES:
            self._limit = limit
        if self.size > limit:
            what = "video" if limit == self._max_video_bytes != self._max_bytes else "file"
            raise TooLarge(f"the {what} is larger than the limit of {limit} bytes")
        self._pending.append(data)
        self._pending_bytes += len(data)

    @property
    def should_flush(self) -> bool:
        return self._pending_bytes >= FLUSH_BYTES

    def _write(self, chunks: list[bytes]) -> None:
        if self._file is None:
            fd, self.path = tempfile.mkstemp(prefix="gemroll-ingest-", dir=self._spool_dir)
            self._file = os.fdopen(fd, "wb")
        for chunk in chunks:
            self._hash.update(chunk)
            self._file.write(chunk)

    async def flush(self) -> None:
        chunks, self._pending, self._pending_bytes = self._pending, [], 0
        if chunks:
            await asyncio.to_thread(self._write, chunks)

    async def finish(self) -> StagedFile:
        await self.flush()
        if self._file is None:  # an empty part: still a (zero-byte) file
            await asyncio.to_thread(self._write, [])
        assert self._file is not None and self.path is not None
        await asyncio.to_thread(self._file.close)
        return StagedFile(path=self.path, size=self.size, sha256=self._hash.hexdigest(),
                          head=self.head)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


@dataclass
class ReceivedUpload:
    staged: StagedFile
    metadata: bytes | None = None


@dataclass
class _Part:
    name: str = ""
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_name: bytes = b""
    header_value: bytes = b""
    data: bytearray = field(default_factory=bytearray)


class _UploadParser:
    """python-multipart callbacks for one `file` part and an optional `metadata` part."""

    def __init__(self, sink: FileSink, max_metadata_bytes: int) -> None:
        self.sink = sink
        self.max_metadata_bytes = max_metadata_bytes
        self.part = _Part()
        self.file_seen = False
        self.file_done = False
        self.metadata: bytes | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.part.header_name.lower()] = self.part.header_value
        self.part.header_name, self.part.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == FILE_FIELD:
            if self.file_seen:
                raise InvalidRequest("send exactly one `file` part per upload")
            self.file_seen = True
        elif name == METADATA_FIELD:
            if self.metadata is not None:
                raise InvalidRequest("send at most one `metadata` part")
        else:
            raise InvalidRequest(
                f"unexpected form field {name[:40]!r}: expected `file` and optional `metadata`"
            )
        self.part.name = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == FILE_FIELD:
            self.sink.add(data[start:end])
            return
        self.part.data += data[start:end]
        if len(self.part.data) > self.max_metadata_bytes:
            raise InvalidMetadata(f"metadata is larger than {self.max_metadata_bytes} bytes")

    def on_part_end(self) -> None:
        if self.part.name == FILE_FIELD:
            self.file_done = True
        elif self.part.name == METADATA_FIELD:
            self.metadata = bytes(self.part.data)

    def callbacks(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_header_field", "on_header_value", "on_header_end",
            "on_headers_finished", "on_part_data", "on_part_end")}


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise MultipartRequired(
            "send the photo as multipart/form-data with a `file` part (and optional `metadata`)"
        )
    return options[b"boundary"]


@contextlib.asynccontextmanager
async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    *,
    max_file_bytes: int,
    max_metadata_bytes: int,
    spool_dir: str | None = None,
    max_video_bytes: int | None = None,
) -> AsyncIterator[ReceivedUpload]:
    """Parse the request body; yields the staged file, which is deleted afterwards."""
    boundary = boundary_of(content_type)
    sink = FileSink(spool_dir, max_file_bytes, max_video_bytes)
    handler = _UploadParser(sink, max_metadata_bytes)
    parser = MultipartParser(boundary, handler.callbacks())  # type: ignore[arg-type]
    try:
        try:
            async for chunk in chunks:
                parser.write(chunk)
                if sink.should_flush:
                    await sink.flush()
            parser.finalize()
        except FormParserError as exc:
            raise InvalidRequest(f"malformed multipart body: {exc}") from None
        if not handler.file_done:
            raise InvalidRequest("the `file` part is missing (or the body was cut short)")
        staged = await sink.finish()
        yield ReceivedUpload(staged=staged, metadata=handler.metadata)
    finally:
        await asyncio.to_thread(sink.discard)
