"""A fault-injecting HTTP proxy in front of the real S3 endpoint: slow answers, `503 SlowDown`
bursts, and a full store (writes refused the way MinIO refuses them, reads still served).

Requests are forwarded byte for byte (the Host header included, so SigV4 signatures stay
valid) over one upstream connection per client connection; bodies stream, never buffered
whole. Point a service's `S3_ENDPOINT` at `proxy.endpoint`.

    async with s3_fault_proxy("127.0.0.1", 18333) as proxy:
        proxy.faults.delay_s = 2.0           # every request waits 2 s
        proxy.faults.slow_down(20)           # the next 20 requests: 503 SlowDown
        proxy.faults.full = True             # PUT/POST: 507 XMinioStorageFull
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


def is_write(verb: str, target: str) -> bool:
    """PUT, and POST other than a batch delete (a full store still deletes)."""
    query = target.partition("?")[2]
    return verb == "PUT" or (verb == "POST" and "delete" not in query.split("&")
                             and not query.startswith("delete"))

SLOW_DOWN = (503, "Service Unavailable", "SlowDown",
             "Please reduce your request rate.")
STORAGE_FULL = (507, "Insufficient Storage", "XMinioStorageFull",
                "Storage backend has reached its minimum free drive threshold. "
                "Please delete a few objects to proceed.")


@dataclass
class Faults:
    delay_s: float = 0.0
    """Added before each request is forwarded."""
    full: bool = False
    """Writes are refused as by a full MinIO; reads and deletes pass."""
    slow_down_left: int = 0
    """How many of the next requests get 503 SlowDown."""
    seen: Counter[str] = field(default_factory=Counter)
    """Requests by what was done to them (`forwarded`, `delayed`, `slow_down`, `full`)."""

    def slow_down(self, requests: int) -> None:
        self.slow_down_left = requests

    def clear(self) -> None:
        self.delay_s, self.full, self.slow_down_left = 0.0, False, 0


@dataclass
class FaultProxy:
    endpoint: str
    faults: Faults


def _error_body(code: str, message: str, path: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><Resource>{path}</Resource>"
            "<RequestId>fault-proxy</RequestId></Error>").encode()


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)
            if k}


async def _copy_exactly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                        size: int) -> None:
    while size > 0:
        chunk = await reader.read(min(size, 1 << 16))
        if not chunk:
            raise ConnectionError("the body ended early")
        size -= len(chunk)
        if writer is not None:
            writer.write(chunk)
            await writer.drain()


async def _copy_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        writer.write(line)
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                writer.write(trailer)
            writer.write(b"\r\n")
            await writer.drain()
            return
        await _copy_exactly(reader, writer, size + 2)  # the data and its CRLF


async def _copy_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                     headers: dict[str, str]) -> None:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        assert writer is not None
        await _copy_chunked(reader, writer)
    else:
        await _copy_exactly(reader, writer, int(headers.get("content-length", "0")))


def _response_has_body(method: str, status: int) -> bool:
    return method != "HEAD" and status not in (204, 304) and status >= 200


async def _refuse(writer: asyncio.StreamWriter, answer: tuple[int, str, str, str],
                  path: str) -> None:
    status, reason, code, message = answer
    body = _error_body(code, message, path)
    writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                 f"Content-Length: {len(body)}\r\nRetry-After: 1\r\n\r\n".encode() + body)
    await writer.drain()


class _Connection:
    def __init__(self, faults: Faults, upstream: tuple[str, int]) -> None:
        self.faults, self.upstream = faults, upstream
        self.up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                await self._one(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            if self.up is not None:
                self.up[1].close()

    async def _one(self, head: bytes, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
        method, path = head.split(b" ", 2)[:2]
        verb, target = method.decode(), path.decode("latin-1")
        headers = _headers(head)
        faults = self.faults
        refusal = None
        if faults.slow_down_left > 0:
            faults.slow_down_left -= 1
            refusal, kind = SLOW_DOWN, "slow_down"
        elif faults.full and is_write(verb, target):
            refusal, kind = STORAGE_FULL, "full"
        if refusal is not None:
            faults.seen[kind] += 1
            if headers.get("expect", "").lower() != "100-continue":
                await _copy_body(reader, None, headers)  # read and drop what was sent
            await _refuse(writer, refusal, target)
            if headers.get("expect", "").lower() == "100-continue":
                raise ConnectionError("body not read: close the connection")
            return
        if faults.delay_s > 0:
            faults.seen["delayed"] += 1
            await asyncio.sleep(faults.delay_s)
        faults.seen["forwarded"] += 1
        if self.up is None:
            self.up = await asyncio.open_connection(*self.upstream)
        up_reader, up_writer = self.up
        up_writer.write(head)
        await _copy_body(reader, up_writer, headers)
        await up_writer.drain()
        answer = await up_reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        status = int(answer.split(b" ", 2)[1])
        if _response_has_body(verb, status):
            await _copy_body(up_reader, writer, _headers(answer))
        await writer.drain()


@contextlib.asynccontextmanager
async def s3_fault_proxy(upstream_host: str, upstream_port: int) -> AsyncIterator[FaultProxy]:
    """A proxy on a free loopback port forwarding to the S3 endpoint at host:port."""
    faults = Faults()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _Connection(faults, (upstream_host, upstream_port)).serve(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield FaultProxy(f"http://127.0.0.1:{port}", faults)
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
