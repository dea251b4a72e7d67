"""The runtime kit's pure parts: the backoff, the failure policy, contract decoding, the typed
object-store errors and the HTTP error shapes."""

from __future__ import annotations

import httpx
import pytest
import urllib3
from fastapi import FastAPI
from gemroll_common.consumer import FailurePolicy, decode
from gemroll_common.errors import (
    ObjectMissing,
    PoisonMessage,
    StoreRefused,
    StoreUnavailable,
    is_transient,
)
from gemroll_common.http import add_operational_routes
from gemroll_common.retry import Backoff
from gemroll_common.s3_client import store_error
from gemroll_contracts import CONSENT, MEDIA_ERASED, ConsentChanged, ConsentChangedData, utcnow
from gemroll_testkit.faults import TRANSIENT_ERRORS
from minio.error import S3Error
from pydantic import BaseModel, ValidationError


def consent_event() -> ConsentChanged:
    return ConsentChanged(producer="policy", data=ConsentChangedData(
        user_key="ab" * 20, camera_roll=True, training_opt_out=False, ledger_seq=3,
        changed_at=utcnow()))


def test_backoff_doubles_from_the_first_delay_and_is_capped() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(10_000) == 4.0


@pytest.mark.parametrize("kind", sorted(TRANSIENT_ERRORS))
def test_the_policy_never_gives_up_on_a_transient_failure(kind: str) -> None:
    error = TRANSIENT_ERRORS[kind]()
    assert is_transient(error)
    assert not FailurePolicy(max_attempts=3).gives_up(error, attempt=1_000)


def test_the_policy_dead_letters_poison_at_once_and_bugs_after_max_attempts() -> None:
    policy = FailurePolicy(max_attempts=3)
    assert policy.gives_up(PoisonMessage("bad"), attempt=1)
    assert not policy.gives_up(ValueError("bug"), attempt=2)
    assert policy.gives_up(ValueError("bug"), attempt=3)


def test_decode_returns_the_topics_event_and_refuses_anything_else() -> None:
    event = consent_event()
    assert decode(CONSENT, event.to_json()) == event
    with pytest.raises(PoisonMessage, match="does not belong"):
        decode(MEDIA_ERASED, event.to_json())
    with pytest.raises(ValidationError):
        decode(CONSENT, b'{"event_type": "consent.changed"}')
    with pytest.raises(ValidationError):
        decode(CONSENT, b"\xff not json")


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status
        self.headers: dict[str, str] = {}
        self.data = b""


def s3(code: str, status: int) -> S3Error:
    return S3Error(_Response(status), code, "msg", "/r", "req", "host")  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "typed"), [
    (s3("NoSuchKey", 404), ObjectMissing),
    (s3("NoSuchBucket", 404), ObjectMissing),
    (s3("SlowDown", 503), StoreUnavailable),
    (s3("InternalError", 500), StoreUnavailable),
    (urllib3.exceptions.ProtocolError("aborted"), StoreUnavailable),
    (ConnectionRefusedError(111, "refused"), StoreUnavailable),
    (s3("AccessDenied", 403), StoreRefused),
    (s3("InvalidObjectName", 400), StoreRefused),
])
def test_store_failures_come_out_typed(error: BaseException, typed: type) -> None:
    result = store_error(error, "read an object")
    assert type(result) is typed
    assert is_transient(result) == (typed is StoreUnavailable)


def test_a_bug_in_a_store_call_is_not_disguised_as_a_store_error() -> None:
    bug = KeyError("x")
    assert store_error(bug, "read") is bug


class Body(BaseModel):
    count: int


def api(error: BaseException | None = None) -> FastAPI:
    app = FastAPI()
    add_operational_routes(app, "test", {})

    @app.post("/v1/thing")
    async def thing(body: Body) -> dict[str, int]:
        if error is not None:
            raise error
        return {"count": body.count}

    return app


async def post(app: FastAPI, body: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/v1/thing", json=body)


@pytest.mark.parametrize("kind", sorted(TRANSIENT_ERRORS))
async def test_every_transient_failure_answers_503_with_retry_after(kind: str) -> None:
    response = await post(api(TRANSIENT_ERRORS[kind]()), {"count": 1})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"]["code"] == "service_unavailable"


async def test_a_bug_is_a_500_not_a_503() -> None:
    response = await post(api(RuntimeError("bug")), {"count": 1})
    assert response.status_code == 500


async def test_an_invalid_request_answers_422_in_the_common_shape() -> None:
    response = await post(api(), {"count": "many"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_request"
    assert detail["message"].startswith("body.count:")
    assert detail["errors"][0]["loc"] == ["body", "count"]
