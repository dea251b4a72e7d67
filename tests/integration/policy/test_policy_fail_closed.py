"""Fail closed: with PostgreSQL unreachable nothing is admitted and consent is never guessed;
the waiting candidates are decided once the database is back.

The shared PostgreSQL keeps running: the service reaches it through a TCP proxy that the test
cuts (closes every connection and stops listening) and restores."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from gemroll_common.settings import DatabaseSettings
from gemroll_contracts import TRAINING_CANDIDATES, TRAINING_MEDIA, USER_ACTIONS, ActionKind
from gemroll_policy import metrics
from gemroll_testkit import eventually
from gemroll_testkit.events import action, candidate
from pydantic import SecretStr

pytestmark = pytest.mark.integration


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.streams: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.streams):
            writer.transport.abort()
        self.streams.clear()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self.streams |= {client_w, upstream_w}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()
            self.streams.discard(writer)

        await asyncio.gather(pipe(client_r, upstream_w), pipe(upstream_r, client_w))


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


async def test_nothing_is_admitted_while_the_database_is_unreachable(policy):
    target = urlsplit(policy.database_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.open()
    database = DatabaseSettings(url=SecretStr(through(proxy, policy.database_url)))
    app = policy.app(database=database)
    user, media = policy.user_key("dora"), uuid.uuid4()
    candidates = [candidate(user, media)] + [
        candidate(user, media, source="suggester", derived_media_id=uuid.uuid4())
        for _ in range(9)]
    await policy.put_sources(candidates)

    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.put("/v1/consent", json={"camera_roll": True},
                                 headers=policy.headers("dora"))).status_code == 200
        await policy.produce(USER_ACTIONS, [action(user, media, ActionKind.shared)])

        async def share_stored() -> bool:
            return bool(await policy.query("SELECT 1 FROM actions WHERE media_id = $1", media))

        await eventually(share_stored)

        await proxy.cut()
        failures = metrics.GATE_FAILURES.labels("decide")
        before = failures._value.get()
        await policy.produce(TRAINING_CANDIDATES, candidates)

        async def gate_is_waiting() -> bool:
            return failures._value.get() >= before + 3

        await eventually(gate_is_waiting)
        assert metrics.CONSENT_STORE_UP._value.get() == 0
        response = await client.get("/v1/consent", headers=policy.headers("dora"))
        assert response.status_code == 503
        assert response.json()["detail"]["code"] == "consent_store_unavailable"
        assert (await client.get("/readyz")).status_code == 503
        # nothing admitted, nothing decided
        assert await policy.read(TRAINING_MEDIA, count=1, timeout_s=3) == []
        assert await policy.query("SELECT 1 FROM candidates") == []

        await proxy.open()
        admitted = await policy.read(TRAINING_MEDIA, count=len(candidates), timeout_s=60)
        assert sorted(json.loads(v)["data"]["candidate_id"] for v in admitted) == sorted(
            policy.training_id(c.data.candidate_id) for c in candidates)
        await eventually(lambda: asyncio.sleep(0, metrics.CONSENT_STORE_UP._value.get() == 1))
        assert (await client.get("/v1/consent", headers=policy.headers("dora"))).json()[
            "camera_roll"] is True
    await proxy.cut()
