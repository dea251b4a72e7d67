"""GET /v1/media[/{id}], DELETE, auth on every route, and the operational routes."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from gemroll_common.auth import issue_dev_token
from gemroll_common.settings import AuthSettings
from gemroll_contracts import USER_ACTIONS, UserAction
from gemroll_testkit import photos
from pydantic import SecretStr

pytestmark = pytest.mark.integration

V1_ROUTES = [
    ("POST", "/v1/media"),
    ("GET", "/v1/media"),
    ("GET", f"/v1/media/{uuid.uuid4()}"),
    ("DELETE", f"/v1/media/{uuid.uuid4()}"),
    ("POST", "/v1/uploads"),
    ("POST", f"/v1/uploads/{uuid.uuid4()}/complete"),
]


async def uploaded(ingest, account: str, n: int = 1) -> list[str]:
    ids = []
    for _ in range(n):
        response = await ingest.upload(account, photos.jpeg())
        assert response.status_code == 201, response.text
        ids.append(response.json()["media_id"])
    return ids


@pytest.mark.parametrize(("method", "path"), V1_ROUTES)
async def test_every_v1_route_needs_a_valid_token(ingest, method, path):
    missing = await ingest.client.request(method, path)
    assert missing.status_code == 401
    assert missing.json()["detail"]["code"] == "missing_token"
    assert missing.headers["www-authenticate"] == "Bearer"

    auth = ingest.auth
    forged = issue_dev_token("mallory", AuthSettings(hs256_secret=SecretStr("x" * 40)))
    now = int(time.time())
    expired = jwt.encode({"sub": "alice", "iat": now - 7200, "exp": now - 3600,
                          "iss": auth.issuer, "aud": auth.audience},
                         auth.hs256_secret.get_secret_value(), algorithm="HS256")
    wrong_audience = jwt.encode({"sub": "alice", "exp": now + 60, "iss": auth.issuer,
                                 "aud": "someone-else"},
                                auth.hs256_secret.get_secret_value(), algorithm="HS256")
    unsigned = jwt.encode({"sub": "alice", "exp": now + 60}, key=None, algorithm="none")
    for token in (forged, expired, wrong_audience, unsigned, "not-a-jwt"):
        response = await ingest.client.request(method, path,
                                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (token, response.text)
        assert response.json()["detail"]["code"] == "invalid_token"


async def test_get_returns_metadata_and_pipeline_status(ingest):
    account = await ingest.opted_in_user()
    [media_id] = await uploaded(ingest, account)
    response = await ingest.client.get(f"/v1/media/{media_id}", headers=ingest.headers(account))
    assert response.status_code == 200
    item = response.json()
    assert item["media_id"] == media_id
    assert item["pipeline"]["stage"] in ("stored", "announced")
    assert item["pipeline"]["stored_at"] == item["created_at"]


async def test_another_users_media_is_not_found(ingest):
    owner, other = await ingest.opted_in_user(), await ingest.opted_in_user()
    [media_id] = await uploaded(ingest, owner)
    headers = ingest.headers(other)

    for response in (
        await ingest.client.get(f"/v1/media/{media_id}", headers=headers),
        await ingest.client.delete(f"/v1/media/{media_id}", headers=headers),
        await ingest.client.get(f"/v1/media/{uuid.uuid4()}", headers=headers),
    ):
        assert response.status_code == 404
        assert response.json()["detail"]["code"] == "not_found"
    assert (await ingest.client.get("/v1/media", headers=headers)).json()["items"] == []
    still = await ingest.client.get(f"/v1/media/{media_id}", headers=ingest.headers(owner))
    assert still.status_code == 200


async def test_listing_pages_newest_first_with_an_opaque_cursor(ingest):
    account = await ingest.opted_in_user()
    ids = await uploaded(ingest, account, 5)
    headers = ingest.headers(account)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await ingest.client.get("/v1/media", params=params, headers=headers)).json()
        pages += 1
        seen += [item["media_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))

    default = (await ingest.client.get("/v1/media", headers=headers)).json()
    assert [i["media_id"] for i in default["items"]] == list(reversed(ids))
    assert default["next_cursor"] is None


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"limit": 101}, 422, "invalid_request"),
    ({"limit": 0}, 422, "invalid_request"),
    ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
])
async def test_listing_refuses_bad_parameters(ingest, params, status, code):
    account = await ingest.opted_in_user()
    response = await ingest.client.get("/v1/media", params=params,
                                       headers=ingest.headers(account))
    assert response.status_code == status
    assert response.json()["detail"]["code"] == code


async def test_delete_hides_the_media_announces_once_and_is_idempotent(ingest):
    account = await ingest.opted_in_user()
    first, second = await uploaded(ingest, account, 2)
    headers = ingest.headers(account)

    assert (await ingest.client.delete(f"/v1/media/{first}", headers=headers)).status_code == 204
    assert (await ingest.client.delete(f"/v1/media/{first}", headers=headers)).status_code == 204
    assert (await ingest.client.get(f"/v1/media/{first}", headers=headers)).status_code == 404
    listed = (await ingest.client.get("/v1/media", headers=headers)).json()["items"]
    assert [i["media_id"] for i in listed] == [second]
    # Erasure is the policy service's decision: the object stays until MediaErased.
    assert len(await ingest.objects(account)) == 2

    # Ordered per user: once the later deletion is announced, a repeat of the first would be
    # in front of it.
    assert (await ingest.client.delete(f"/v1/media/{second}", headers=headers)).status_code == 204
    actions = [UserAction.from_json(v).data for v in
               await ingest.raw_events(USER_ACTIONS, account, count=2)]
    assert [(str(a.media_id), a.action.value) for a in actions] == [
        (first, "media_deleted"), (second, "media_deleted")]
    assert actions[0].user_key == ingest.user_key(account)


async def test_the_same_bytes_can_be_uploaded_again_after_deletion(ingest):
    account = await ingest.opted_in_user()
    photo = photos.jpeg()
    first = (await ingest.upload(account, photo)).json()["media_id"]
    await ingest.client.delete(f"/v1/media/{first}", headers=ingest.headers(account))
    again = await ingest.upload(account, photo)
    assert again.status_code == 201 and again.json()["media_id"] != first


async def test_operational_routes_and_openapi(ingest):
    assert (await ingest.client.get("/healthz")).json() == {"status": "ok", "service": "ingest"}
    ready = await ingest.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "object_store": True, "kafka": True}

    account = await ingest.opted_in_user()
    await ingest.upload(account, photos.jpeg())
    await ingest.upload(account, b"nope")
    metrics = (await ingest.client.get("/metrics")).text
    for name in ('gemroll_ingest_uploads_total{outcome="accepted"}',
                 'gemroll_ingest_uploads_total{outcome="rejected_unsupported_media_type"}',
                 "gemroll_ingest_upload_bytes_total", 'gemroll_outbox_pending{service="ingest"}'):
        assert name in metrics

    spec = (await ingest.client.get("/openapi.json")).json()
    assert set(spec["paths"]) == {"/v1/media", "/v1/media/{media_id}", "/v1/media/facets",
                                  "/v1/media/{media_id}/preview",
                                  "/v1/media/{media_id}/motion", "/v1/uploads",
                                  "/v1/uploads/{upload_id}/complete"}
    assert "image/jpeg" in spec["paths"]["/v1/media/{media_id}/preview"]["get"][
        "responses"]["200"]["content"]
    upload = spec["paths"]["/v1/media"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"200", "201", "401", "403", "413", "415", "422"} <= set(upload["responses"])
