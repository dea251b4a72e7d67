"""The HTTP side every service shares: /healthz, /readyz, /metrics and request metrics."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from structlog.contextvars import bound_contextvars

from .errors import is_transient
from .logging import get_logger
from .metrics import HTTP_REQUESTS, HTTP_SECONDS

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(request: Request) -> str:
    """The caller's request id when it is a short safe token, else a new one: every log line
    of the request carries it and the answer echoes it (tracing one upload across logs)."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def subscribers_assigned(subscribers: Iterable[Any]) -> ReadinessCheck:
    """Ready when every FastStream Kafka subscriber has at least one partition assigned."""
    subs = list(subscribers)

    async def check() -> bool:
        for sub in subs:
            consumer = getattr(sub, "consumer", None)
            if consumer is None or not consumer.assignment():
                return False
        return True

    return check


async def _run_check(check: ReadinessCheck, timeout_s: float) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout_s))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


def error_response(status_code: int, code: str, message: str,
                   headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """The one error shape of every API: `{"detail": {"code", "message", ...}}`."""
    return JSONResponse({"detail": {"code": code, "message": message, **extra}},
                        status_code=status_code, headers=headers)


def _dependency_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    log.warning("dependency_unavailable", path=request.url.path, error_type=type(exc).__name__)
    return error_response(
        503, "service_unavailable",
        "a backing service (database, object store or Kafka) is unavailable; retry shortly",
        headers={"Retry-After": "5"})


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                for e in exc.errors()]
    message = "; ".join(f"{'.'.join(p['loc'])}: {p['msg']}" for p in problems)
    return error_response(422, "invalid_request", message or "invalid request", errors=problems)


def add_operational_routes(
    app: FastAPI, service: str, checks: dict[str, ReadinessCheck], timeout_s: float = 2.0
) -> None:
    """Adds /healthz (alive), /readyz (every check passes) and /metrics, plus HTTP metrics;
    a transient failure (`errors.is_transient`: a dependency down or busy) answers 503 with
    Retry-After, never 500; an invalid request answers 422 in the common error shape."""
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[n], timeout_s) for n in names))
        status = dict(zip(names, results, strict=True))
        ready = all(results)
        return JSONResponse({"ready": ready, "checks": status}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def record(request: Request,
                     call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        request_id = request_id_of(request)
        try:
            with bound_contextvars(request_id=request_id):
                try:
                    response = await call_next(request)
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    response = _dependency_unavailable(request, exc)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(service, request.method, template, str(status)).inc()
            HTTP_SECONDS.labels(service, request.method, template).observe(
                time.perf_counter() - started
            )
