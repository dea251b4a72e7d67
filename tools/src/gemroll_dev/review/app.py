"""The review page's development server: the static page, plus `/api/<service>/...` forwarded
to the service (the same path routing the ingress does in production, so the page and the
APIs share one origin and need no CORS)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
PROXIED = ("ingest", "suggester", "policy")
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length",
})


def _forwardable(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "message": message}}, status_code=status)


def create_app(
    upstreams: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """`upstreams`: service name ("ingest", "suggester", "policy") -> base URL."""
    bases = {name: url.rstrip("/") for name, url in upstreams.items() if name in PROXIED}

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=5.0),
                                     transport=transport) as client:
            app.state.http = client
            yield

    async def proxy(request: Request) -> Response:
        return await forward(request, request.path_params["service"],
                             request.path_params["path"])

    async def share_page(request: Request) -> Response:
        """Public share links (`/s/<token>`), served as the production ingress routes them."""
        return await forward(request, "suggester", f"s/{request.path_params['path']}")

    async def forward(request: Request, service: str, path: str) -> Response:
        base = bases.get(service)
        if base is None:
            return _problem(404, "unknown_service",
                            f"no service {service!r}; known: {', '.join(sorted(bases))}")
        url = f"{base}/{path}"
        client: httpx.AsyncClient = request.app.state.http
        upstream_request = client.build_request(
            request.method, url, params=request.query_params.multi_items(),
            headers=_forwardable(request.headers), content=request.stream(),
        )
        try:
            upstream = await client.send(upstream_request, stream=True)
        except httpx.TransportError as exc:
            return _problem(502, "upstream_unreachable", f"{service} at {base}: {exc!r}")
        return StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code,
            headers=_forwardable(upstream.headers), background=BackgroundTask(upstream.aclose),
        )

    async def index(_: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "upstreams": bases})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/api/{service}/{path:path}", proxy,
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/s/{path:path}", share_page),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        lifespan=lifespan,
    )
