"""Object-store failures: the store down or busy is the domain's StorageUnavailable (503 with
Retry-After, and transient for the consumers); a refusal for good stays the kit's
StoreRefused (500: misconfigured, not worth a retry)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from gemroll_common.auth import Principal, current_principal
from gemroll_common.errors import StoreRefused, StoreUnavailable, is_transient
from gemroll_common.settings import S3Settings
from gemroll_ingest import api
from gemroll_ingest.adapters.storage import S3BlobStore
from gemroll_ingest.domain.errors import StorageUnavailable


class FailingStore:
    """Stands in for the kit's ObjectStore: every call raises `error`."""

    bucket = "gemroll-media"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def _fail(self, *args: object, **kwargs: object) -> None:
        raise self.error

    put_file = copy = stat = delete = delete_prefix = presigned_put = _fail


def blobs(error: Exception) -> S3BlobStore:
    adapter = S3BlobStore(FailingStore(error), S3Settings())  # type: ignore[arg-type]
    adapter._presigner = FailingStore(error)  # type: ignore[assignment]  # noqa: SLF001
    return adapter


CALLS = {
    "put_file": lambda b: b.put_file("k", "/nonexistent", 1, "image/jpeg", "0" * 64),
    "size": lambda b: b.size("k"),
    "copy": lambda b: b.copy("a", "b", "image/jpeg", "0" * 64),
    "delete": lambda b: b.delete("k"),
    "delete_prefix": lambda b: b.delete_prefix("users/x/"),
    "presigned_put": lambda b: b.presigned_put("k", 60),
}


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_the_store_down_is_storage_unavailable_and_transient(call):
    with pytest.raises(StorageUnavailable) as raised:
        await CALLS[call](blobs(StoreUnavailable("object store failed: SlowDown")))
    assert is_transient(raised.value)


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_a_refusal_stays_a_refusal(call):
    with pytest.raises(StoreRefused) as raised:
        await CALLS[call](blobs(StoreRefused("object store refused: AccessDenied")))
    assert not is_transient(raised.value)


class RefusingListing:
    async def get(self, user_key: str, media_id: object) -> None:
        raise StoreRefused("object store refused to read an object: AccessDenied")


class UnavailableListing:
    async def get(self, user_key: str, media_id: object) -> None:
        raise StorageUnavailable("object store failed to read an object: SlowDown")


@pytest.mark.parametrize(("listing", "status", "code", "retry_after"), [
    (UnavailableListing(), 503, "storage_unavailable", "5"),
    (RefusingListing(), 500, "storage_misconfigured", None),
], ids=["unavailable", "refused"])
async def test_the_api_answers_store_failures_in_the_common_shape(listing, status, code,
                                                                 retry_after):
    app = FastAPI()
    api.install(app)
    app.state.ingest = SimpleNamespace(listing=listing)
    app.dependency_overrides[current_principal] = lambda: Principal("acct", "a" * 32)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://ingest") as client:
        response = await client.get(f"/v1/media/{uuid.uuid4()}")
    assert response.status_code == status
    assert response.json()["detail"]["code"] == code
    assert response.headers.get("Retry-After") == retry_after
