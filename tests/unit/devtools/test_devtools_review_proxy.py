"""The review page's server: static files, and /api/<service>/ forwarded as the ingress does."""

from __future__ import annotations

import json

import httpx
import pytest
from gemroll_dev.review import create_app

UPSTREAMS = {"ingest": "http://ingest:1", "suggester": "http://suggester:2",
             "policy": "http://policy:3/"}


@pytest.fixture
async def review():
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "policy":
            raise httpx.ConnectError("connection refused", request=request)
        body = {"method": request.method, "path": request.url.path,
                "body": request.content.decode()}
        # A streamed body, as a real transport gives it (json= would be read already).
        return httpx.Response(201, stream=httpx.ByteStream(json.dumps(body).encode()),
                              headers={"x-upstream": request.url.host,
                                       "content-type": "application/json"})

    app = create_app(UPSTREAMS, transport=httpx.MockTransport(upstream))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://review") as client:
            yield client, seen


async def test_serves_the_page_and_its_assets(review):
    client, _ = review
    page = await client.get("/")
    assert page.status_code == 200 and "gem<span>roll</span>" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert (await client.get(asset)).status_code == 200
    assert (await client.get("/healthz")).json()["upstreams"]["policy"] == "http://policy:3"


async def test_forwards_method_path_query_body_and_token(review):
    client, seen = review
    response = await client.post(
        "/api/suggester/v1/suggestions/abc/actions?x=1&x=2", json={"action": "share"},
        headers={"Authorization": "Bearer t0ken"})
    assert response.status_code == 201
    assert response.headers["x-upstream"] == "suggester"
    assert response.json() == {"method": "POST", "path": "/v1/suggestions/abc/actions",
                               "body": json.dumps({"action": "share"}, separators=(",", ":"))}
    forwarded = seen[-1]
    assert str(forwarded.url) == "http://suggester:2/v1/suggestions/abc/actions?x=1&x=2"
    assert forwarded.headers["authorization"] == "Bearer t0ken"
    assert forwarded.headers["host"] == "suggester:2"


async def test_unknown_service_and_unreachable_upstream_are_json_errors(review):
    client, _ = review
    unknown = await client.get("/api/classifier/v1/anything")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "unknown_service"
    down = await client.put("/api/policy/v1/consent", json={"camera_roll": True})
    assert down.status_code == 502
    assert down.json()["detail"]["code"] == "upstream_unreachable"


async def test_share_links_are_served_from_the_suggester_as_the_ingress_does(review):
    client, seen = review
    response = await client.get("/s/Tok3n-abc/image/1")
    assert response.headers["x-upstream"] == "suggester"
    assert str(seen[-1].url) == "http://suggester:2/s/Tok3n-abc/image/1"
    assert "authorization" not in seen[-1].headers
