"""Isolation between users, and who may call what.

Every route of every service (read from the apps themselves, hidden ones included):
* without a token: 401, except /healthz, /readyz, /metrics (and the API documentation);
* with another user's token on the owner's ids: 401/403/404, never the owner's data, and the
  owner's data unchanged afterwards;
* with a forged token (expired, wrong signature, `alg: none`, missing claims...): 401/403;
* an RS256-configured service refuses an HS256 token signed with its public key (HS/RS
  confusion) and accepts a real RS256 token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
import pytest
from fastapi.routing import APIRoute
from gemroll_testkit import eventually
from gemroll_testkit.photos import shot
from gemroll_testkit.processes import ServiceProcess, free_port
from gemroll_testkit.reliability.tokens import (
    claims_for,
    forged_tokens,
    hs256_with_raw_key,
    rsa_keypair,
    unsigned,
)
from starlette.routing import Route

from .conftest import opted_in, upload_roll

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPEN_ROUTES = {"/healthz", "/readyz", "/metrics"}
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
"""FastAPI's API documentation answers without a token; it holds no user data."""
REFUSED = {401, 403, 404}


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str

    def url(self, base: str, ids: dict[str, str]) -> str:
        path = self.path
        for name in ("media_id", "suggestion_id", "upload_id"):
            path = path.replace("{" + name + "}", ids.get(name, str(uuid.uuid4())))
        return base + path

    @property
    def label(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def routes() -> list[Endpoint]:
    """Every route the four apps register (built without connecting to anything)."""
    from gemroll_classifier.app import create_app as classifier
    from gemroll_ingest.app import create_app as ingest
    from gemroll_policy.app import create_app as policy
    from gemroll_suggester.app import create_app as suggester

    found = []
    for service, factory in (("ingest", ingest), ("classifier", classifier),
                             ("suggester", suggester), ("policy", policy)):
        for path, methods in _flatten(factory().routes):
            found += [Endpoint(service, m, path) for m in sorted(methods - {"HEAD"})]
    return found


def _flatten(routes: list) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, also inside included routers (FastAPI keeps those as
    `_IncludedRouter` entries that expand to their effective routes)."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute | Route):
            out.append((route.path, set(route.methods or {"GET"})))
        elif hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                methods = getattr(ctx.original_route, "methods", None) or {"GET"}
                out.append((ctx.path, set(methods)))
    return out


ENDPOINTS = routes()
V1 = [e for e in ENDPOINTS if e.path.startswith("/v1/")]


def request_kwargs(endpoint: Endpoint) -> dict:
    if endpoint.path == "/v1/media" and endpoint.method == "POST":
        return {"files": {"file": ("x.jpg", shot(0, seed=555).data, "image/jpeg")}}
    if endpoint.path.endswith("/actions"):
        return {"json": {"action": "share"}}
    if endpoint.path == "/v1/consent" and endpoint.method == "PUT":
        return {"json": {"training_opt_out": True}}
    if endpoint.method in ("POST", "PUT", "PATCH"):
        return {"json": {}}
    return {}


@dataclass
class Owner:
    user: object
    ids: dict[str, str]
    secrets: set[str]
    """Strings of the owner's that must never reach another user: ids and user key."""


@pytest.fixture(scope="module")
async def owner(pipeline, driver, client) -> Owner:
    user = await opted_in(driver)
    media = await upload_roll(driver, user, 5, seed=77)
    suggestions = await eventually(lambda: driver.suggestions(user),
                                   "the owner's suggestions", timeout_s=120)
    created = await client.post(f"{pipeline.url('ingest')}/v1/uploads",
                                       headers=user.headers, json={})
    assert created.status_code == 201, created.text
    upload_id = created.json()["upload_id"]
    ids = {"media_id": media[0], "suggestion_id": suggestions[0]["id"], "upload_id": upload_id}
    return Owner(user, ids, {*media, *(s["id"] for s in suggestions), upload_id, user.key})


def test_every_service_has_v1_routes_to_check() -> None:
    services = {e.service for e in V1}
    assert services == {"ingest", "suggester", "policy"}
    assert len(V1) >= 12


async def test_no_route_but_health_and_metrics_answers_without_a_token(pipeline, client):
    answered = {}
    for e in ENDPOINTS:
        response = await client.request(e.method, e.url(pipeline.url(e.service), {}),
                                               **request_kwargs(e))
        answered[e.label] = response.status_code
    open_routes = {label for label, status in answered.items() if status < 400}
    allowed = {e.label for e in ENDPOINTS if e.path in OPEN_ROUTES | DOCUMENTATION}
    assert open_routes <= allowed
    assert {e.label for e in ENDPOINTS if e.path in OPEN_ROUTES} <= open_routes
    assert {label: s for label, s in answered.items()
            if label.split(" ")[2].startswith("/v1/") and s != 401} == {}


async def test_another_users_token_never_reaches_the_owners_data(pipeline, owner, driver,
                                                                  client):
    intruder = await opted_in(driver)
    await driver.upload(intruder, shot(0, seed=78))  # has data of its own
    leaks, wrong = {}, {}
    for e in V1:
        url = e.url(pipeline.url(e.service), owner.ids)
        response = await client.request(e.method, url, headers=intruder.headers,
                                               **request_kwargs(e))
        body = response.text
        # An id the intruder sent may be echoed in the error; anything else of the owner not.
        seen = [s for s in owner.secrets if s in body and s not in url]
        if seen:
            leaks[e.label] = seen
        targets_owner = "{" in e.path
        if targets_owner and response.status_code not in REFUSED:
            wrong[e.label] = response.status_code
        if response.status_code >= 500:
            wrong[e.label] = response.status_code
    assert leaks == {}
    assert wrong == {}

    # The owner's data is untouched (the intruder's DELETE and actions did nothing).
    own = await client.get(f"{pipeline.url('ingest')}/v1/media/{owner.ids['media_id']}",
                                  headers=owner.user.headers)
    assert own.status_code == 200
    suggestion = await client.get(
        f"{pipeline.url('suggester')}/v1/suggestions/{owner.ids['suggestion_id']}",
        headers=owner.user.headers)
    assert suggestion.status_code == 200 and suggestion.json()["actions"] == []


async def test_forged_tokens_are_refused_everywhere(pipeline, owner, client):
    cfg = pipeline.config
    forged = forged_tokens(owner.user.account, cfg)
    schemes = {"basic_scheme": f"Basic {owner.user.token}", "no_scheme": owner.user.token,
               "token_twice": f"Bearer {owner.user.token} {owner.user.token}"}
    accepted, baseline = {}, {}
    for e in V1:
        url = e.url(pipeline.url(e.service), owner.ids)
        if e.method == "GET":  # the real token works: the refusals below mean something
            ok = await client.get(url, headers=owner.user.headers)
            baseline[e.label] = ok.status_code
        headers_list = {**{n: f"Bearer {t}" for n, t in forged.items()}, **schemes}
        for name, value in headers_list.items():
            response = await client.request(e.method, url, headers={
                "Authorization": value}, **request_kwargs(e))
            if response.status_code not in (401, 403):
                accepted[(e.label, name)] = response.status_code
    assert {k: v for k, v in baseline.items() if v in (401, 403) or v >= 500} == {}, \
        "the owner's real token is accepted"
    assert accepted == {}


@pytest.fixture(scope="module")
async def rs256_policy(pipeline, tmp_path_factory):
    """A second policy process configured for RS256 (gate off), on the same stack."""
    private, public = rsa_keypair()
    cfg = pipeline.config
    env = {**cfg.env("policy"), "GEMROLL_AUTH_ALGORITHM": "RS256",
           "GEMROLL_AUTH_RS256_PUBLIC_KEY": public.decode(),
           "GEMROLL_POLICY_GATE_ENABLED": "false",
           "GEMROLL_POLICY_DB_SCHEMA": f"policyrs{cfg.schema_suffix}"}
    proc = ServiceProcess("policy", free_port(), env,
                          tmp_path_factory.mktemp("rs256") / "policy-rs256.log",
                          pipeline.procs["policy"].cwd)
    proc.start()
    try:
        await proc.wait_ready()
        yield proc, private, public
    finally:
        proc.terminate()


async def test_rs256_service_refuses_hs_rs_confusion_and_none(pipeline, rs256_policy,
                                                               client):
    proc, private, public = rs256_policy
    cfg = pipeline.config
    account = f"rsuser{uuid.uuid4().hex}"
    claims = claims_for(account, cfg)
    url = f"{proc.url}/v1/consent"

    async def status(token: str) -> int:
        return (await client.get(url, headers={"Authorization": f"Bearer {token}"})
                ).status_code

    assert await status(jwt.encode(claims, private, algorithm="RS256")) == 200
    other_private, _ = rsa_keypair()
    refused = {
        "hs256_signed_with_public_key": hs256_with_raw_key(claims, public),
        "hs256_signed_with_public_key_stripped": hs256_with_raw_key(claims, public.strip()),
        "hs256_with_the_jwt_secret": jwt.encode(claims, cfg.secrets.jwt, algorithm="HS256"),
        "alg_none": unsigned({"alg": "none"}, claims),
        "rs256_other_key": jwt.encode(claims, other_private, algorithm="RS256"),
        "expired_rs256": jwt.encode({**claims, "exp": 1}, private, algorithm="RS256"),
    }
    answers = {name: await status(token) for name, token in refused.items()}
    assert {n: s for n, s in answers.items() if s not in (401, 403)} == {}
