"""A small client for gemroll's HTTP APIs (ingest, suggester, policy), used by the CLI and the
demo. Where the services are comes from `ServiceUrls.discover()`: the environment
(`INGEST_URL`, `SUGGESTER_URL`, `POLICY_URL`), else the running stack's `.run/stack.env`,
else the default local ports."""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .stack.config import StackConfig, read_env_file
from .stack.services import service_url

API_SERVICES = ("ingest", "suggester", "policy")
ACTIONS = ("save", "share", "edit", "dismiss", "unshare")


class ApiError(RuntimeError):
    """A service answered with an error (`{"detail": {"code", "message"}}`) or not at all."""

    def __init__(self, service: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{service}: {status} {code}: {message}")
        self.service = service
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ServiceUrls:
    ingest: str
    suggester: str
    policy: str

    @classmethod
    def discover(
        cls, cfg: StackConfig | None = None, env: Mapping[str, str] | None = None
    ) -> ServiceUrls:
        """`<SVC>_URL` from the environment, else from the stack's stack.env, else the
        ports the stack `cfg` would give the services."""
        env = os.environ if env is None else env
        cfg = cfg or StackConfig.load(env=env)
        recorded = read_env_file(cfg.env_file) if cfg.env_file.exists() else {}
        urls = {}
        for name in API_SERVICES:
            key = f"{name.upper()}_URL"
            urls[name] = (env.get(key) or recorded.get(key) or service_url(cfg, name)).rstrip("/")
        return cls(**urls)

    @classmethod
    def from_exports(cls, exports: Mapping[str, str], cfg: StackConfig) -> ServiceUrls:
        return cls(**{name: exports.get(f"{name.upper()}_URL") or service_url(cfg, name)
                      for name in API_SERVICES})


def stack_value(key: str, default: str, env: Mapping[str, str] | None = None) -> str:
    """`key` from the environment, else from the running stack's stack.env, else `default`."""
    env = os.environ if env is None else env
    if env.get(key):
        return env[key]
    cfg = StackConfig.load(env=env)
    recorded = read_env_file(cfg.env_file) if cfg.env_file.exists() else {}
    return recorded.get(key) or default


@dataclass(frozen=True)
class UploadAnswer:
    media_id: str
    sha256: str
    status: str
    """`accepted` (201) or `duplicate` (200: the same bytes were uploaded before)."""

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


def dev_token(user: str, ttl_seconds: int = 12 * 3600) -> str:
    """A development HS256 token for `user` (the services' default dev secret, or
    GEMROLL_AUTH_HS256_SECRET)."""
    from gemroll_common.auth import issue_dev_token
    from gemroll_common.settings import AuthSettings

    return issue_dev_token(user, AuthSettings(), ttl_seconds=ttl_seconds)


def user_key_of(user: str) -> str:
    """The opaque key events carry for `user` (needs the services' GEMROLL_USER_KEY_SECRET)."""
    from gemroll_common.identity import user_key
    from gemroll_common.settings import IdentitySettings

    return user_key(user, IdentitySettings().user_key_secret.get_secret_value())


def _error(service: str, response: httpx.Response) -> ApiError:
    code, message = "http_error", response.text[:300] or response.reason_phrase
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        code = str(detail.get("code", code))
        message = str(detail.get("message", message))
    elif isinstance(detail, str):
        message = detail
    elif isinstance(detail, list):  # FastAPI's request validation errors
        message = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
        code = "invalid_request"
    return ApiError(service, response.status_code, code, message)


def _items(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Items and the next page's cursor of a paginated answer."""
    if isinstance(body, list):
        return body, None
    items = body.get("items", [])
    cursor = body.get("next_cursor")
    return items, cursor


class GemrollClient:
    """One user's view of the APIs. Use as `async with GemrollClient(urls, token) as api:`."""

    def __init__(self, urls: ServiceUrls, token: str, *, timeout_s: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = urls
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=transport,
        )

    async def __aenter__(self) -> GemrollClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = getattr(self.urls, service) + path
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            message = f"{method} {url} failed: {exc!r} (is the stack up? `gemroll up`)"
            raise ApiError(service, 0, "unreachable", message) from None
        if response.is_error:
            raise _error(service, response)
        return response

    # -- policy ---------------------------------------------------------------------------
    async def consent(self) -> dict[str, Any]:
        return (await self._call("policy", "GET", "/v1/consent")).json()

    async def set_consent(
        self, *, camera_roll: bool | None = None, training_opt_out: bool | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in (("camera_roll", camera_roll),
                                  ("training_opt_out", training_opt_out)) if v is not None}
        return (await self._call("policy", "PUT", "/v1/consent", json=body)).json()

    async def training_report(self) -> dict[str, Any]:
        return (await self._call("policy", "GET", "/v1/me/training-report")).json()

    # -- ingest ---------------------------------------------------------------------------
    async def upload(self, path: Path, metadata: Mapping[str, Any] | None = None) -> UploadAnswer:
        """Upload one file (streamed from disk). A duplicate is an answer, not an error."""
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        with path.open("rb") as stream:
            files = {"file": (path.name, stream, content_type)}
            data = {"metadata": json.dumps(dict(metadata))} if metadata else None
            response = await self._call("ingest", "POST", "/v1/media", files=files, data=data)
        body = response.json()
        return UploadAnswer(str(body["media_id"]), body["sha256"], body["status"])

    async def media(self, media_id: str) -> dict[str, Any]:
        return (await self._call("ingest", "GET", f"/v1/media/{media_id}")).json()

    async def list_media(self, *, page_size: int = 100) -> AsyncIterator[dict[str, Any]]:
        async for item in self._pages("ingest", "/v1/media", {"limit": page_size}):
            yield item

    # -- suggester ------------------------------------------------------------------------
    async def suggestions(
        self, *, status: str | None = None, kind: str | None = None, page_size: int = 100
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": page_size}
        if status:
            params["status"] = status
        if kind:
            params["kind"] = kind
        return [s async for s in self._pages("suggester", "/v1/suggestions", params)]

    async def suggestion(self, suggestion_id: str) -> dict[str, Any]:
        return (await self._call("suggester", "GET", f"/v1/suggestions/{suggestion_id}")).json()

    async def preview(self, suggestion_id: str) -> tuple[bytes, str]:
        """The rendered preview image and its content type."""
        response = await self._call("suggester", "GET", f"/v1/suggestions/{suggestion_id}/preview")
        return response.content, response.headers.get("content-type", "image/jpeg")

    async def act(self, suggestion_id: str, action: str) -> dict[str, Any]:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
        response = await self._call("suggester", "POST", f"/v1/suggestions/{suggestion_id}/actions",
                                    json={"action": action})
        return response.json()

    async def _pages(
        self, service: str, path: str, params: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            items, cursor = _items((await self._call(service, "GET", path, params=query)).json())
            for item in items:
                yield item
            if not cursor or not items:
                return
