"""Streaming multipart parsing: hashed on the way, refused the moment it is too large."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from gemroll_ingest.adapters.multipart import receive_upload
from gemroll_ingest.domain import errors

BOUNDARY = "----gemroll-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, data: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n").encode() + data + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def chunked(data: bytes, size: int = 7919, counter: list[int] | None = None):
    for i in range(0, len(data), size):
        if counter is not None:
            counter.append(i)
        yield data[i:i + size]


async def test_file_is_spooled_hashed_and_removed_afterwards(tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    raw = body(part("metadata", b'{"album": "x"}'), part("file", payload, "a.jpg"))
    async with receive_upload(chunked(raw), CONTENT_TYPE, max_file_bytes=len(payload),
                              max_metadata_bytes=1024, spool_dir=str(tmp_path)) as received:
        staged = received.staged
        assert staged.size == len(payload)
        assert staged.sha256 == hashlib.sha256(payload).hexdigest()
        assert staged.head == payload[:64]
        assert Path(staged.path).read_bytes() == payload  # noqa: ASYNC240
        assert received.metadata == b'{"album": "x"}'
    assert list(tmp_path.iterdir()) == []


async def test_reading_stops_at_the_limit(tmp_path):
    payload = bytes(1024 * 1024)
    reads: list[int] = []
    raw = body(part("file", payload, "a.jpg"))
    with pytest.raises(errors.TooLarge):
        async with receive_upload(chunked(raw, 4096, reads), CONTENT_TYPE, max_file_bytes=10_000,
                                  max_metadata_bytes=1024, spool_dir=str(tmp_path)):
            pass
    assert len(reads) <= 4
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("raw", "content_type", "error"), [
    (body(part("metadata", b"{}")), CONTENT_TYPE, errors.InvalidRequest),
    (body(part("file", b"a", "a"), part("file", b"b", "b")), CONTENT_TYPE, errors.InvalidRequest),
    (body(part("photo", b"a", "a")), CONTENT_TYPE, errors.InvalidRequest),
    (body(part("metadata", b"x" * 2000), part("file", b"a", "a")), CONTENT_TYPE,
     errors.InvalidMetadata),
    (body(part("file", b"a", "a"))[:-20], CONTENT_TYPE, errors.InvalidRequest),
    (b"whatever", "application/json", errors.MultipartRequired),
    (b"whatever", "multipart/form-data", errors.MultipartRequired),
])
async def test_malformed_bodies_are_refused(tmp_path, raw, content_type, error):
    with pytest.raises(error):
        async with receive_upload(chunked(raw), content_type, max_file_bytes=10_000,
                                  max_metadata_bytes=1024, spool_dir=str(tmp_path)):
            pass
    assert list(tmp_path.iterdir()) == []


async def test_empty_file_part_is_an_empty_file(tmp_path):
    raw = body(part("file", b"", "a.jpg"))
    async with receive_upload(chunked(raw), CONTENT_TYPE, max_file_bytes=10,
                              max_metadata_bytes=10, spool_dir=str(tmp_path)) as received:
        assert received.staged.size == 0 and received.metadata is None
