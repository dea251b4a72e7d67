"""A small client for gemroll's HTTP APIs (ingest, suggester, policy), used by the CLI and the
development tools. Where the services are comes from `ServiceUrls.discover()`: the environment
(`INGEST_URL`, `SUGGESTER_URL`, `POLICY_URL`), else the local stack's `.run/stack.env`, else
the default local ports."""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .discovery import read_stack_env

API_SERVICES = ("ingest", "suggester", "policy")
ACTIONS = ("save", "share", "edit", "dismiss", "unshare")
PRESIGNED_FROM_BYTES = 32 * 1024 * 1024
"""Files this large go straight to the object store (presigned PUT), not through ingest."""
CHUNK_BYTES = 1024 * 1024
DEFAULT_URLS = {"INGEST_URL": "http://127.0.0.1:18081", "SUGGESTER_URL": "http://127.0.0.1:18083",
                "POLICY_URL": "http://127.0.0.1:18084"}
"""Where the local stack puts the services on its default ports."""


class ApiError(RuntimeError):
    """A service answered with an error (`{"detail": {"code", "message"}}`) or not at all."""

    def __init__(self, service: str, status: int, code: str, message: str, *,
                 retry_after_s: float | None = None) -> None:
        super().__init__(f"{service}: {status} {code}: {message}")
        self.service = service
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s
        """The service's `Retry-After` (seconds), when it gave one."""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not worth parsing for a hint
        return None


@dataclass(frozen=True)
class ServiceUrls:
    ingest: str
    suggester: str
    policy: str

    @classmethod
    def discover(cls, env: Mapping[str, str] | None = None, *,
                 defaults: Mapping[str, str] = DEFAULT_URLS) -> ServiceUrls:
        """`<SVC>_URL` from the environment, else from the stack's stack.env, else from
        `defaults`."""
        env = os.environ if env is None else env
        return cls.first_of(env, read_stack_env(env), defaults)

    @classmethod
    def first_of(cls, *sources: Mapping[str, str]) -> ServiceUrls:
        """Each service's `<SVC>_URL` from the first of `sources` that has it."""
        urls = {}
        for name in API_SERVICES:
            key = f"{name.upper()}_URL"
            found = next((source[key] for source in sources if source.get(key)), None)
            if found is None:
                raise LookupError(f"no {key} given")
            urls[name] = found.rstrip("/")
        return cls(**urls)


@dataclass(frozen=True)
class UploadAnswer:
    media_id: str
    sha256: str
    status: str
    """`accepted` (201) or `duplicate` (200: the same bytes were uploaded before)."""

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


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
    return ApiError(service, response.status_code, code, message,
                    retry_after_s=_retry_after(response))


def _answer(response: httpx.Response) -> UploadAnswer:
    body = response.json()
    return UploadAnswer(str(body["media_id"]), body["sha256"], body["status"])


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
                 transport: httpx.AsyncBaseTransport | None = None,
                 presigned_from_bytes: int = PRESIGNED_FROM_BYTES) -> None:
        self.urls = urls
        self.presigned_from_bytes = presigned_from_bytes
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=transport,
        )
        self._storage = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=5.0),
                                          transport=transport)

    async def __aenter__(self) -> GemrollClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._storage.aclose()

    async def _call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._send(self._http, service, method, getattr(self.urls, service) + path,
                                **kwargs)

    @staticmethod
    async def _send(http: httpx.AsyncClient, service: str, method: str, url: str,
                    **kwargs: Any) -> httpx.Response:
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            # Never the query: a presigned URL's signature is a credential.
            message = (f"{method} {url.split('?', 1)[0]} failed: {exc!r} "
                       "(are the services up? in a checkout, `make up` starts them)")
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
    async def upload(self, path: Path, metadata: Mapping[str, Any] | None = None, *,
                     on_bytes: Callable[[int], None] = lambda _: None) -> UploadAnswer:
        """Upload one file, streamed from disk: large ones (`PRESIGNED_FROM_BYTES`) through a
        presigned PUT to the object store, the rest in one request to ingest. `on_bytes(n)` is
        called as the bytes go out. A duplicate is an answer, not an error."""
        size = os.stat(path).st_size
        if size >= self.presigned_from_bytes:
            return await self.upload_presigned(path, metadata, on_bytes=on_bytes)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        with path.open("rb") as stream:
            files = {"file": (path.name, stream, content_type)}
            data = {"metadata": json.dumps(dict(metadata))} if metadata else None
            response = await self._call("ingest", "POST", "/v1/media", files=files, data=data)
        on_bytes(size)
        return _answer(response)

    async def upload_presigned(self, path: Path, metadata: Mapping[str, Any] | None = None, *,
                               on_bytes: Callable[[int], None] = lambda _: None) -> UploadAnswer:
        """The two-step upload: a presigned URL from ingest, the bytes PUT to the object store
        in chunks (never all in memory), then ingest validates and accepts them."""
        created = (await self._call("ingest", "POST", "/v1/uploads",
                                    json=dict(metadata) if metadata else None)).json()
        size = os.stat(path).st_size

        async def chunks() -> AsyncIterator[bytes]:
            with path.open("rb") as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    yield chunk
                    on_bytes(len(chunk))

        # Without our bearer token: the URL carries its own signature.
        await self._send(self._storage, "storage", "PUT", created["url"], content=chunks(),
                         headers={"Content-Length": str(size)})
        return _answer(await self._call("ingest", "POST",
                                        f"/v1/uploads/{created['upload_id']}/complete"))

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

    async def media_preview(self, media_id: str, size: int = 320) -> bytes:
        """A photo's (or a video's poster) small metadata-free JPEG."""
        response = await self._call("ingest", "GET", f"/v1/media/{media_id}/preview",
                                    params={"size": size})
        return response.content

    async def preview(self, suggestion_id: str) -> tuple[bytes, str]:
        """The rendered preview image and its content type."""
        response = await self._call("suggester", "GET", f"/v1/suggestions/{suggestion_id}/preview")
        return response.content, response.headers.get("content-type", "image/jpeg")

    async def recap(self, suggestion_id: str) -> bytes:
        """A highlight's recap movie (MP4); the suggester makes it on first ask."""
        response = await self._call("suggester", "GET", f"/v1/suggestions/{suggestion_id}/recap")
        return response.content

    async def act(self, suggestion_id: str, action: str) -> dict[str, Any]:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
        response = await self._call("suggester", "POST", f"/v1/suggestions/{suggestion_id}/actions",
                                    json={"action": action})
        return response.json()

    async def share_links(self) -> list[dict[str, Any]]:
        """The user's share links that open now, with absolute URLs."""
        items = (await self._call("suggester", "GET", "/v1/share-links")).json()["items"]
        return [{**x, "url": self.public_url(x["url"])} for x in items]

    def public_url(self, path: str) -> str:
        """A share link's absolute URL (served by the suggester)."""
        return self.urls.suggester.rstrip("/") + path

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
