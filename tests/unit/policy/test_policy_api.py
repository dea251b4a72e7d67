"""The HTTP API over in-memory adapters: auth, validation, errors, fail-closed answers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from gemroll_common.auth import TokenVerifier, issue_dev_token
from gemroll_common.http import add_operational_routes
from gemroll_common.identity import user_key
from gemroll_common.propagation import Applied
from gemroll_common.settings import AuthSettings, IdentitySettings
from gemroll_contracts import CONSENT, ConsentChanged
from gemroll_policy import api
from gemroll_policy.adapters.memory import InMemoryPolicyStore
from gemroll_policy.domain import Pseudonymizer
from gemroll_policy.usecases import ConsentHandler, ReportHandler

AUTH, IDENTITY = AuthSettings(), IdentitySettings()


@pytest.fixture
def store() -> InMemoryPolicyStore:
    return InMemoryPolicyStore(Pseudonymizer("api-test-pseudonym-secret"))


class FakePropagation:
    """Answers as `gemroll_common.propagation` would; records who waited."""

    def __init__(self) -> None:
        self.waited: list[str] = []
        self.answer = Applied(in_effect=True)

    async def wait(self, key: str) -> Applied:
        self.waited.append(key)
        return self.answer


@pytest.fixture
def propagation() -> FakePropagation:
    return FakePropagation()


@pytest.fixture
async def client(store, propagation):
    app = FastAPI()
    api.install(app)
    add_operational_routes(app, "policy", {})  # the common 422 answer
    app.state.token_verifier = TokenVerifier(AUTH, IDENTITY)
    app.state.consent_handler = ConsentHandler(store, store.pseudonyms,
                                               lambda: datetime.now(UTC),
                                               propagation=propagation)
    app.state.report_handler = ReportHandler(store, store.pseudonyms)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        yield c


def auth(account: str = "ivy") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(account, AUTH)}"}


async def test_every_route_needs_a_token(client):
    for method, path in (("GET", "/v1/consent"), ("PUT", "/v1/consent"),
                         ("GET", "/v1/me/training-report")):
        response = await client.request(method, path, json={})
        assert response.status_code == 401
        assert response.json()["detail"]["code"] == "missing_token"


async def test_consent_changes_are_appended_and_published(client, store):
    key = user_key("ivy", IDENTITY.user_key_secret.get_secret_value())
    assert (await client.get("/v1/consent", headers=auth())).json()["camera_roll"] is False
    first = await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    same = await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    second = await client.put("/v1/consent", json={"training_opt_out": True}, headers=auth())
    assert first.json()["ledger_seq"] == 1 and same.json()["ledger_seq"] == 1
    assert second.json() | {"changed_at": None} == {
        "camera_roll": True, "training_opt_out": True, "ledger_seq": 2, "changed_at": None,
        "in_effect": True, "waiting_for": []}
    assert [(u, c.ledger_seq, erase) for u, c, erase, _ in store.ledger] == [
        (key, 1, False), (key, 2, False)]
    published = [ConsentChanged.from_json(m.payload) for m in store.messages(CONSENT.name)]
    assert [(e.data.user_key, e.data.ledger_seq, e.data.training_opt_out)
            for e in published] == [(key, 1, False), (key, 2, True)]
    assert all(m.key == key for m in store.messages(CONSENT.name))


async def test_a_change_is_answered_once_every_service_acts_on_it(client, propagation):
    """Also a change that changes nothing waits: an earlier one may still be on its way."""
    key = user_key("ivy", IDENTITY.user_key_secret.get_secret_value())
    await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    assert propagation.waited == [key, key]
    propagation.answer = Applied(in_effect=False, waiting_for=("ingest",))
    slow = await client.put("/v1/consent", json={"training_opt_out": True}, headers=auth())
    assert slow.status_code == 200  # recorded either way; the answer says who lags
    assert (slow.json()["in_effect"], slow.json()["waiting_for"]) == (False, ["ingest"])
    assert slow.json()["ledger_seq"] == 2


async def test_a_refused_change_waits_for_nothing(client, propagation):
    response = await client.put("/v1/consent", json={}, headers=auth())
    assert response.status_code == 422 and propagation.waited == []


@pytest.mark.parametrize(("body", "code"), [
    ({}, "empty_change"),
    ({"camera_roll": True, "erase_data": True}, "erase_requires_opt_out"),
    ({"erase_data": True}, "erase_requires_opt_out"),  # camera_roll stays true
    ({"camera_roll": "yes please"}, "invalid_request"),
    ({"camera_roll": True, "extra": 1}, "invalid_request"),
])
async def test_invalid_changes_are_refused_with_a_code(client, body, code):
    await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    response = await client.put("/v1/consent", json=body, headers=auth())
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == code
    assert response.json()["detail"]["message"]


async def test_opt_out_with_delete_is_recorded(client, store):
    response = await client.put("/v1/consent", json={"camera_roll": False, "erase_data": True},
                                headers=auth())
    assert response.status_code == 200
    [event] = [ConsentChanged.from_json(m.payload) for m in store.messages(CONSENT.name)]
    assert event.data.erase_data is True and event.data.camera_roll is False


async def test_an_unreachable_store_answers_503_never_a_guess(client, store):
    store.fail_next = ConnectionRefusedError("down")
    response = await client.get("/v1/consent", headers=auth())
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "consent_store_unavailable"
    store.fail_next = OSError("down")
    response = await client.put("/v1/consent", json={"camera_roll": True}, headers=auth())
    assert response.status_code == 503
    assert store.ledger == []


async def test_the_report_is_empty_for_a_new_user(client):
    response = await client.get("/v1/me/training-report", headers=auth("new"))
    assert response.json() == {"items": [], "erased": []}
