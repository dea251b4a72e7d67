"""The API client (service discovery, errors, pagination, uploads), its development tokens
and user keys (as the services make and verify them), and `gemroll-dev tail`'s topic names
and one-line summaries."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import HTTPException
from gemroll_cli.client import DEFAULT_URLS, ApiError, GemrollClient, ServiceUrls
from gemroll_cli.tokens import dev_token, user_key_of
from gemroll_common.auth import TokenVerifier
from gemroll_common.identity import user_key
from gemroll_common.settings import AuthSettings, IdentitySettings
from gemroll_contracts import (
    ActionKind,
    Category,
    ConsentChanged,
    ConsentChangedData,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    UserAction,
    UserActionData,
)
from gemroll_dev.review.__main__ import upstreams_from_env
from gemroll_dev.stack import StackConfig
from gemroll_dev.stack.services import service_port, service_url
from gemroll_dev.tail import resolve_topic, summarize

KEY = "ab" * 16
URLS = ServiceUrls("http://ingest", "http://suggester", "http://policy")


def test_urls_come_from_the_environment_then_stack_env_then_the_default_ports(tmp_path):
    (tmp_path / "stack.env").write_text("INGEST_URL=http://i:1\nPOLICY_URL=http://p:2/\n")
    env = {"GEMROLL_STACK_RUN_DIR": str(tmp_path), "POLICY_URL": "http://override:3"}
    urls = ServiceUrls.discover(env=env)
    assert urls == ServiceUrls("http://i:1", "http://127.0.0.1:18083", "http://override:3")


def test_the_clis_default_urls_are_the_default_stacks():
    cfg = StackConfig.load(env={})
    assert DEFAULT_URLS == {f"{name.upper()}_URL": service_url(cfg, name)
                            for name in ("ingest", "suggester", "policy")}


def test_the_review_page_falls_back_to_an_isolated_stacks_ports(tmp_path):
    (tmp_path / "stack.env").write_text("INGEST_URL=http://i:1\n")
    env = {"GEMROLL_STACK_RUN_DIR": str(tmp_path), "GEMROLL_STACK_KAFKA_PORT": "29092",
           "GEMROLL_REVIEW_POLICY_URL": "http://p:2"}
    assert upstreams_from_env(env) == {"ingest": "http://i:1",
                                       "suggester": "http://127.0.0.1:28083",
                                       "policy": "http://p:2"}


def test_dev_tokens_verify_as_the_services_verify_them(tmp_path):
    token = dev_token("alice", env={})
    principal = TokenVerifier(AuthSettings(), IdentitySettings()).verify(token)
    assert principal.account_id == "alice" and principal.user_key == user_key_of("alice", env={})
    assert user_key_of("alice", env={}) == user_key(
        "alice", IdentitySettings().user_key_secret.get_secret_value())

    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 40 + "\n")
    env = {"GEMROLL_AUTH_HS256_SECRET_FILE": str(secret_file), "GEMROLL_AUTH_ISSUER": "me",
           "GEMROLL_USER_KEY_SECRET": "k" * 32}
    auth = AuthSettings(hs256_secret="s" * 40, issuer="me")
    identity = IdentitySettings(user_key_secret="k" * 32)
    principal = TokenVerifier(auth, identity).verify(dev_token("bob", env=env))
    assert principal.user_key == user_key_of("bob", env=env) == user_key("bob", "k" * 32)
    with pytest.raises(HTTPException, match="401"):
        TokenVerifier(AuthSettings(), identity).verify(dev_token("bob", env=env))


def test_an_isolated_stack_gets_its_own_service_ports():
    assert service_port(StackConfig.load(env={}), "ingest") == 18081
    assert service_port(StackConfig.load(env={}), "review") == 18080
    isolated = StackConfig.load(kafka_port=29092, env={})
    assert [service_port(isolated, n) for n in ("review", "ingest", "policy")] == [
        28080, 28081, 28084]


def client(handler) -> GemrollClient:
    return GemrollClient(URLS, "tok", transport=httpx.MockTransport(handler))


async def test_errors_carry_the_services_code():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"detail": {"code": "consent_required",
                                                    "message": "opt in first"}})

    async with client(handler) as api:
        with pytest.raises(ApiError) as caught:
            await api.suggestions()
    assert (caught.value.service, caught.value.status, caught.value.code) == (
        "suggester", 403, "consent_required")


async def test_unreachable_services_are_api_errors_too():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client(handler) as api:
        with pytest.raises(ApiError, match="make up") as caught:
            await api.consent()
    assert caught.value.code == "unreachable"


async def test_lists_follow_the_cursor():
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], None)}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        items, cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"items": [{"id": i} for i in items],
                                         "next_cursor": cursor})

    async with client(handler) as api:
        found = await api.suggestions(kind="edit")
    assert [s["id"] for s in found] == ["a", "b", "c"]
    assert seen == [{"limit": "100", "kind": "edit"},
                    {"limit": "100", "kind": "edit", "cursor": "c1"}]


async def test_upload_is_multipart_with_metadata_and_a_duplicate_is_an_answer(tmp_path):
    photo = tmp_path / "IMG_1.JPG"
    photo.write_bytes(b"\xff\xd8jpeg bytes")
    received = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={"media_id": "m1", "sha256": "0" * 64,
                                         "status": "duplicate"})

    async with client(handler) as api:
        answer = await api.upload(photo, {"captured_at": "2024-06-09T10:00:00+02:00"})
    assert answer.duplicate and answer.media_id == "m1"
    request = received[0]
    assert request.url == "http://ingest/v1/media"
    assert request.headers["authorization"] == "Bearer tok"
    body = request.content
    assert b'name="file"; filename="IMG_1.JPG"' in body and b"jpeg bytes" in body
    assert b'name="metadata"' in body
    assert json.dumps({"captured_at": "2024-06-09T10:00:00+02:00"}).encode() in body


def test_topics_by_full_or_short_name():
    assert resolve_topic("media.classified") == "gemroll.media.classified.v1"
    assert resolve_topic("user-actions") == "gemroll.user-actions.v1"
    assert resolve_topic("gemroll.consent.v1") == "gemroll.consent.v1"
    with pytest.raises(KeyError, match="suggestions"):
        resolve_topic("suggestion")


def test_events_summarised_in_one_line():
    media_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    now = datetime(2024, 6, 9, tzinfo=UTC)
    classified = MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=KEY, bucket="gemroll-media", object_key="users/k/media/1",
        width=10, height=10, category=Category.photo, gem_score=0.87, is_gem=True,
        reasons=["gem:best_shot"], model=ModelInfo(name="m", version="1")))
    assert summarize(classified) == "media 12345678 photo GEM 0.87 [gem:best_shot]"
    action = UserAction(producer="suggester", data=UserActionData(
        user_key=KEY, media_id=media_id, action=ActionKind.shared, acted_at=now))
    assert summarize(action) == "shared media 12345678"
    consent = ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key=KEY, camera_roll=True, training_opt_out=False, ledger_seq=2, changed_at=now))
    assert summarize(consent) == "camera_roll=True training_opt_out=False (ledger #2)"
