"""The users who drive the pipeline over HTTP: consent, uploads (retried through outages),
and actions on their suggestions. Everything they were told is recorded for the audit."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from gemroll_common.http import REQUEST_ID_HEADER

from ..photos import Shot
from .services import Pipeline

RETRYABLE_STATUS = frozenset({502, 503, 504})
"""A dependency is down: the client tries again (the issue's 'no manual fix')."""


def refusal_of(response: httpx.Response) -> str:
    """`<code>: <message>` of an error answer in the common shape (else its text)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        return f"{detail.get('code')}: {str(detail.get('message'))[:200]}"
    return response.text[:200]


def distinctive_account() -> str:
    """A raw account id no other string resembles, so a leak is found by substring search."""
    return f"rawacct{secrets.token_hex(10)}"


@dataclass
class User:
    account: str
    key: str
    token: str
    consent_in_effect: bool = False
    """The last `PUT /v1/consent` (an opt-in) answered `in_effect`: every service acts on it,
    so the ingest must never answer this user 403 `consent_required`."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class UploadRecord:
    index: int
    user: User
    tag: str = ""
    """Unique per upload; attempt n is sent with the request id `<tag>-a<n>` (in every log
    line of that request)."""
    media_id: str | None = None
    status: int | None = None
    """The final answer (201 accepted, 200 duplicate, or a refusal); None when none came."""
    refusal: str | None = None
    """`<code>: <message>` of a final answer that is not a success."""
    attempts: int = 0
    started: float = 0.0
    """time.time() of the first attempt."""
    answered: float = 0.0
    answers: list[int | str] = field(default_factory=list)
    gave_up: str | None = None
    """Why the client stopped trying without a final answer."""

    def request_id(self, attempt: int) -> str:
        return f"{self.tag}-a{attempt}"


@dataclass
class Driver:
    pipeline: Pipeline
    client: httpx.AsyncClient
    give_up_s: float = 300.0
    uploads: list[UploadRecord] = field(default_factory=list)
    run: str = field(default_factory=lambda: secrets.token_hex(3))
    """Names this driver's uploads apart from other runs' in shared logs."""
    unexpected: list[str] = field(default_factory=list)
    """Answers that are neither success nor a retryable outage (5xx other than 502-504)."""

    def new_user(self, account: str | None = None) -> User:
        account = account or distinctive_account()
        cfg = self.pipeline.config
        return User(account, cfg.user_key(account), cfg.token(account))

    async def _retrying(self, what: str, call: Callable[[], Awaitable[httpx.Response]],
                        ok: Callable[[httpx.Response], bool],
                        log: list[int | str] | None = None) -> httpx.Response:
        """Call until `ok(response)`; connection errors and 502-504 are retried with backoff."""
        deadline = time.monotonic() + self.give_up_s
        delay = 0.2
        while True:
            try:
                response = await call()
                if log is not None:
                    log.append(response.status_code)
                if ok(response):
                    return response
                if response.status_code >= 500 and response.status_code not in RETRYABLE_STATUS:
                    self.unexpected.append(f"{what}: {response.status_code} {response.text[:300]}")
            except httpx.HTTPError as exc:
                if log is not None:
                    log.append(type(exc).__name__)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: no success in {self.give_up_s:.0f}s")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    async def opt_in(self, user: User, *, training_opt_out: bool = False) -> None:
        """PUT the consent on the policy service (retried through outages)."""
        body = {"camera_roll": True, "training_opt_out": training_opt_out}
        url = f"{self.pipeline.url('policy')}/v1/consent"
        response = await self._retrying(
            "consent", lambda: self.client.put(url, json=body, headers=user.headers),
            lambda r: r.status_code == 200)
        user.consent_in_effect = response.json().get("in_effect") is True

    async def upload(self, user: User, shot: Shot, *, metadata: str | None = None,
                     filename: str | None = None) -> UploadRecord:
        """POST /v1/media until a definitive answer; a 2xx is an accepted upload. A client that
        gets none before `give_up_s` records why (the accounting reports it)."""
        record = UploadRecord(shot.index, user, tag=f"up{self.run}-{len(self.uploads)}",
                              started=time.time())
        self.uploads.append(record)
        url = f"{self.pipeline.url('ingest')}/v1/media"
        name = filename or f"IMG_{shot.index:05d}.jpg"

        def post() -> Awaitable[httpx.Response]:
            record.attempts += 1
            files = {"file": (name, shot.data, "image/jpeg")}
            headers = {**user.headers, REQUEST_ID_HEADER: record.request_id(record.attempts)}
            return self.client.post(url, files=files, data={"metadata": metadata}
                                    if metadata else None, headers=headers)

        def definitive(r: httpx.Response) -> bool:
            # 403 consent_required: the ConsentChanged has not reached the ingest yet, which
            # the policy's `in_effect` answer rules out (read-your-writes).
            if r.status_code == 403 and user.consent_in_effect:
                self.unexpected.append(f"upload {shot.index}: 403 after an opt-in answered "
                                       f"in effect: {r.text[:200]}")
            return r.status_code < 500 and r.status_code not in (403, 429)

        try:
            response = await self._retrying(f"upload {shot.index}", post, definitive,
                                            record.answers)
        except TimeoutError as exc:
            record.gave_up = str(exc)
            return record
        record.status = response.status_code
        record.answered = time.time()
        if response.status_code in (200, 201):
            record.media_id = response.json()["media_id"]
        else:
            record.refusal = refusal_of(response)
        return record

    async def list_media(self, user: User) -> list[dict[str, Any]]:
        """Every media item the ingest holds for `user` (all pages)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        url = f"{self.pipeline.url('ingest')}/v1/media"
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            response = await self._retrying(
                "list media", lambda p=params: self.client.get(url, params=p, headers=user.headers),
                lambda r: r.status_code == 200)
            page = response.json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def suggestions(self, user: User) -> list[dict[str, Any]]:
        """All of `user`'s suggestions, every status (all pages)."""
        found: dict[str, dict[str, Any]] = {}
        url = f"{self.pipeline.url('suggester')}/v1/suggestions"
        for status in ("proposed", "edited", "saved", "shared", "dismissed", "withdrawn"):
            cursor: str | None = None
            while True:
                params = {"limit": "100", "status": status, **({"cursor": cursor} if cursor
                                                                else {})}
                response = await self._retrying(
                    "list suggestions",
                    lambda p=params: self.client.get(url, params=p, headers=user.headers),
                    lambda r: r.status_code == 200)
                page = response.json()
                for item in page["items"]:
                    found[item["id"]] = item
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        return list(found.values())

    async def act(self, user: User, suggestion_id: str, action: str) -> dict[str, Any] | None:
        """POST an action; None when the suggester refuses it (409)."""
        url = f"{self.pipeline.url('suggester')}/v1/suggestions/{suggestion_id}/actions"
        response = await self._retrying(
            f"{action} {suggestion_id}",
            lambda: self.client.post(url, json={"action": action}, headers=user.headers),
            lambda r: r.status_code in (200, 409))
        return response.json() if response.status_code == 200 else None

