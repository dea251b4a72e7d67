"""Share links over HTTP: the user's live links (`GET /v1/share-links`, bearer token), and
the public pages a link opens (`/s/<token>`, no token: the link is the key).

Public answers send no referrer, are not cached or indexed, run no script, and say 404 for
every link that does not open, whatever the reason. Each client address may make
`share_links_per_minute` requests to them (429 with Retry-After beyond)."""

from __future__ import annotations

import html
import time
from collections import deque
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from gemroll_common.auth import CurrentPrincipal
from gemroll_common.http import error_response
from gemroll_contracts import SuggestionKind
from pydantic import BaseModel

from .domain.sharing import ShareLink, shared_photos
from .usecases import Deps, sharing

PUBLIC_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}

links = APIRouter(prefix="/v1/share-links", tags=["sharing"])
public = APIRouter(prefix="/s", tags=["sharing"], include_in_schema=True)


def share_path(link: ShareLink) -> str:
    return f"/s/{link.token}"


class ShareLinkOut(BaseModel):
    suggestion_id: UUID
    kind: SuggestionKind
    title: str
    url: str
    created_at: datetime
    expires_at: datetime


class ShareLinkPage(BaseModel):
    items: list[ShareLinkOut]


def _deps(request: Request) -> Deps:
    return request.app.state.deps


@links.get("", response_model=ShareLinkPage)
async def list_links(request: Request, principal: CurrentPrincipal) -> ShareLinkPage:
    """Your share links that open now (unshare a suggestion to close its links)."""
    found = await sharing.live_links(_deps(request), principal.user_key)
    return ShareLinkPage(items=[ShareLinkOut(
        suggestion_id=s.suggestion_id, kind=s.kind, title=s.title, url=share_path(link),
        created_at=link.created_at, expires_at=link.expires_at) for link, s in found])


class RateLimit:
    """At most `per_minute` requests per client address in any 60 s (in this process)."""

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, client: str, now: float | None = None) -> float | None:
        """None: go ahead; else seconds to wait."""
        now = time.monotonic() if now is None else now
        if len(self._seen) >= self.max_clients and client not in self._seen:
            self._seen.clear()
        hits = self._seen.setdefault(client, deque())
        while hits and now - hits[0] >= 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return 60 - (now - hits[0])
        hits.append(now)
        return None


def _guard(request: Request) -> Response | None:
    limit: RateLimit = request.app.state.share_rate_limit
    wait = limit.retry_after(request.client.host if request.client else "?")
    if wait is None:
        return None
    response = error_response(429, "too_many_requests", "slow down")
    response.headers.update({**PUBLIC_HEADERS, "Retry-After": str(max(1, round(wait)))})
    return response


def _gone() -> Response:
    return HTMLResponse("<!doctype html><title>Not found</title><p>This link does not exist "
                        "or was taken back.</p>", status_code=404, headers=PUBLIC_HEADERS)


@public.get("/{token}", response_class=HTMLResponse)
async def shared_page(request: Request, token: str) -> Response:
    """The page a share link opens: the title and exactly what was shared."""
    if (limited := _guard(request)) is not None:
        return limited
    try:
        suggestion = await sharing.open_link(_deps(request), token)
    except sharing.LinkClosed:
        return _gone()
    base = f"/s/{html.escape(token, quote=True)}"
    images = [f'<img src="{base}/image/0" alt="{html.escape(suggestion.title)}">']
    images += [f'<img src="{base}/image/{i}" alt="photo {i}">'
               for i in range(1, len(shared_photos(suggestion)) + 1)]
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(suggestion.title)}</title><style>"
            "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem;"
            "background:#111;color:#eee}img{display:block;max-width:100%;margin:1rem 0}"
            f"</style></head><body><h1>{html.escape(suggestion.title)}</h1>"
            f"{''.join(images)}<p><small>Shared with gemroll.</small></p></body></html>")
    return HTMLResponse(page, headers=PUBLIC_HEADERS)


@public.get("/{token}/image/{index}", response_class=Response)
async def shared_image(request: Request, token: str, index: int) -> Response:
    """One image of a share link, without any metadata."""
    if (limited := _guard(request)) is not None:
        return limited
    try:
        data, content_type = await sharing.shared_image(_deps(request), token, index)
    except sharing.LinkClosed:
        return _gone()
    return Response(data, media_type=content_type, headers=PUBLIC_HEADERS)


async def _not_yours(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "suggestion_not_found", f"no suggestion {exc}")


def install(app: FastAPI, per_minute: int) -> None:
    app.state.share_rate_limit = RateLimit(per_minute)
    app.include_router(links)
    app.include_router(public)
    app.add_exception_handler(sharing.NotYours, _not_yours)
