"""Schemathesis against every service's OpenAPI document, with a valid token of a user who has
real media and suggestions: at least 1,000 generated requests per service, no 5xx.

The classifier publishes no HTTP operation (its OpenAPI document is empty; it has only
/healthz, /readyz and /metrics): it gets the same number of requests from a generic fuzzer of
methods, paths, queries and headers instead.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx
import pytest
from gemroll_testkit import eventually
from gemroll_testkit.reliability.fuzz import fuzz_service
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import opted_in, report_dir, upload_roll

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIN_REQUESTS = 1000


@pytest.fixture(scope="module")
async def fuzz_user(pipeline, driver):
    """A user with photos and suggestions, and the ids the fuzzer may use in paths."""
    user = await opted_in(driver)
    media = await upload_roll(driver, user, 5, seed=31)

    async def suggested():
        return await driver.suggestions(user)

    suggestions = await eventually(suggested, "suggestions for the fuzz user", timeout_s=120)
    ids = {"media_id": media[0], "suggestion_id": suggestions[0]["id"]}
    return user, ids


@pytest.mark.parametrize("service", ["ingest", "suggester", "policy"])
async def test_openapi_fuzzing_finds_no_server_error(pipeline, fuzz_user, service) -> None:
    user, ids = fuzz_user
    report = await asyncio.to_thread(
        fuzz_service, service, pipeline.url(service), user.token,
        min_requests=MIN_REQUESTS, known_path_parameters=ids)
    (report_dir() / f"fuzz_{service}.json").write_text(json.dumps({
        "requests": report.requests, "operations": report.operations,
        "per_operation": report.per_operation, "statuses": report.statuses,
        "server_errors": report.server_errors, "not_generated": report.not_generated},
        indent=1, default=str))
    assert report.operations, "the OpenAPI document lists operations"
    assert report.requests >= MIN_REQUESTS, report.per_operation
    assert set(report.per_operation) == set(report.operations), "every operation was fuzzed"
    assert report.server_errors == []
    assert await pipeline.procs[service].healthy()


def test_classifier_publishes_no_operation(pipeline) -> None:
    document = httpx.get(f"{pipeline.url('classifier')}/openapi.json").json()
    assert document.get("paths", {}) == {}


async def test_generic_fuzzing_of_the_classifier_finds_no_server_error(pipeline, fuzz_user):
    user, _ = fuzz_user
    base = pipeline.url("classifier")
    statuses: list[int] = []
    paths = st.sampled_from(["/healthz", "/readyz", "/metrics", "/v1/media", "/", "/docs",
                             "/openapi.json", "/v1/classify", "/%2e%2e/%2e%2e/etc/passwd"])
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)

    @settings(max_examples=MIN_REQUESTS, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
           path=st.one_of(paths, text.map(lambda t: "/" + quote(t))),
           query=st.dictionaries(text, text, max_size=3),
           auth=st.sampled_from([None, user.token, "garbage", "a.b.c"]),
           body=st.binary(max_size=512))
    def send(method, path, query, auth, body) -> None:
        headers = {"Authorization": f"Bearer {auth}"} if auth is not None else {}
        response = client.request(method, path, params=query, headers=headers, content=body)
        statuses.append(response.status_code)
        assert response.status_code < 500, (method, path, response.status_code)

    with httpx.Client(base_url=base, timeout=30) as client:
        await asyncio.to_thread(send)
    assert len(statuses) >= MIN_REQUESTS
    assert await pipeline.procs["classifier"].healthy()
