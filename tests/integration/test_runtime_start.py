"""A service started while PostgreSQL cannot be reached waits for it (and then serves) instead
of exiting: a crash loop's back-off would keep it down long after the database is back.

The database "appears" when a loopback forwarder to the real PostgreSQL starts listening on
the port the service was given."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from gemroll_ingest.app import create_app
from gemroll_ingest.settings import IngestSettings
from gemroll_testkit import eventually
from gemroll_testkit.processes import free_port
from pydantic import SecretStr

pytestmark = pytest.mark.integration

async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()

def forwarder_to(host: str, port: int):  # noqa: ANN201
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return serve

async def test_a_service_started_without_its_database_waits_for_it_then_serves(isolated_env):
    env = isolated_env
    real = urlsplit(env.database.url.get_secret_value())
    port = free_port()
    unreachable = real._replace(netloc=f"{real.username}:{real.password}@127.0.0.1:{port}")
    database = env.database.model_copy(update={"url": SecretStr(urlunsplit(unreachable))})
    schema = f"ingest{env.schema_suffix}"
    app = create_app(settings=IngestSettings(db_schema=schema), kafka=env.kafka,
                     database=database, s3=env.s3)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stop.wait()

    service = asyncio.create_task(run())
    server = None
    try:
        await asyncio.sleep(3.0)
        assert not service.done(), "the service gave up while the database was away"
        assert not started.is_set()
        server = await asyncio.start_server(forwarder_to(real.hostname, real.port),
                                            "127.0.0.1", port)
        await asyncio.wait_for(started.wait(), 30)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            async def database_ready() -> bool:
                body = (await client.get("/readyz")).json()
                return bool(body["checks"]["database"])

            await eventually(database_ready, "the database check to pass")
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)
        if server is not None:
            server.close()
        conn = await asyncpg.connect(env.database.url.get_secret_value())
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
