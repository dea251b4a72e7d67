"""Unreachable dependencies answer 503 with Retry-After, never 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
import urllib3
from fastapi import FastAPI
from gemroll_common.http import add_operational_routes


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
    urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection"),
    TimeoutError(),
], ids=lambda e: type(e).__name__)
async def test_dependency_errors_answer_503(error: BaseException) -> None:
    app = FastAPI()
    add_operational_routes(app, "test", {})

    @app.get("/v1/thing")
    async def thing() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/v1/thing")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"]["code"] == "service_unavailable"


async def test_readiness_reports_each_check() -> None:
    app = FastAPI()

    async def ok() -> bool:
        return True

    async def down() -> bool:
        raise ConnectionRefusedError

    add_operational_routes(app, "test", {"db": ok, "s3": down})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "checks": {"db": True, "s3": False}}
