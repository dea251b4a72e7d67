"""Erasure: deleting a photo, or opting out with delete, removes the original, its previews,
AI renditions and suggestions from S3 and every row about it from the policy schema, leaving
only a tombstone (and ids in the audit chain), and publishes MediaErased.

(Ingest, classifier and suggester drop their own rows on MediaErased; the cross-service scan
belongs to the end-to-end suite.)"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    MEDIA_ERASED,
    TRAINING_CANDIDATES,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    MediaErased,
)
from gemroll_policy.domain import Pseudonymizer
from gemroll_testkit import eventually, photos
from gemroll_testkit.events import action, assert_no_user_key, candidate

pytestmark = pytest.mark.integration

# Tables that keep ids of erased media by design: the tombstone and the audit chain.
AUDIT_TABLES = {"tombstones", "audit_log"}


async def rows_mentioning(policy, needles: list[str], *, skip: set[str]) -> dict[str, int]:
    """Table -> rows whose text contains any needle, over every table of the schema."""
    tables = [r["table_name"] for r in await policy.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        policy.schema)]
    assert {"media", "actions", "candidates", "outbox", "erasure_jobs"} <= set(tables)
    found = {}
    for table in tables:
        if table in skip:
            continue
        rows = await policy.query(f"SELECT t::text AS row FROM {table} t")
        hits = sum(1 for r in rows if any(n in r["row"] for n in needles))
        if hits:
            found[table] = hits
    return found


async def drained(policy) -> bool:
    jobs = await policy.query("SELECT 1 FROM erasure_jobs")
    outbox = await policy.query("SELECT 1 FROM outbox")
    return not jobs and not outbox


async def test_media_deletion_and_opt_out_with_delete_leave_nothing_behind(policy):
    app = policy.app()
    store = ObjectStore(policy.env.s3)
    alice, bob = policy.user_key("erin"), policy.user_key("frank")
    doomed, kept, bobs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    derived, suggestion = uuid.uuid4(), uuid.uuid4()
    doomed_keys = [f"users/{alice}/media/{doomed}", f"users/{alice}/media/{doomed}/preview.jpg",
                   f"users/{alice}/derived/{derived}.jpg",
                   f"users/{alice}/suggestions/{suggestion}/preview.jpg",
                   f"users/{alice}/suggestions/{suggestion}/collage.jpg"]
    kept_keys = [f"users/{alice}/media/{kept}", f"users/{alice}/media/{kept}/preview.jpg"]
    bobs_keys = [f"users/{bob}/media/{bobs}"]
    for key in doomed_keys + kept_keys + bobs_keys:
        await store.put_bytes(key, photos.phone_jpeg(), "image/jpeg")

    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for account in ("erin", "frank"):
            await client.put("/v1/consent", json={"camera_roll": True},
                             headers=policy.headers(account))
        await policy.produce(USER_ACTIONS, [
            action(alice, doomed, ActionKind.edited_with_ai, suggestion_id=suggestion,
                   derived_media_id=derived),
            action(alice, kept, ActionKind.shared), action(bob, bobs, ActionKind.shared)])
        await policy.produce(TRAINING_CANDIDATES, [
            candidate(alice, doomed), candidate(alice, kept), candidate(bob, bobs),
            candidate(alice, doomed, source="suggester", derived_media_id=derived)])
        admitted = [json.loads(v)["data"] for v in await policy.read(TRAINING_MEDIA, count=4)]
        subject = Pseudonymizer(policy.settings.pseudonym_secret.get_secret_value()).subject(
            alice)
        copies = {a["media_id"]: a["object_key"] for a in admitted}
        assert all([await store.exists(key) for key in copies.values()])

        # 1. the user deletes one photo
        await policy.produce(USER_ACTIONS, [
            action(alice, doomed, ActionKind.media_deleted, producer="ingest")])
        [erased] = [MediaErased.from_json(v) for v in await policy.read(MEDIA_ERASED)]
        assert (erased.data.media_ids, erased.data.reason.value) == ([doomed], "media_deleted")
        training = [json.loads(v) for v in await policy.read(TRAINING_MEDIA, count=6)]
        assert sorted((t["data"]["media_id"], t["data"]["reason"]) for t in training
                      if t["event_type"] == "training.retracted") == [
            (policy.media(doomed), "media_deleted")] * 2
        await eventually(lambda: drained(policy))

        for key in doomed_keys:
            assert not await store.exists(key), key
        # the training copies of the erased media are gone too (both candidates for it)
        remaining = set(await store.list_keys(f"training/{subject}/"))
        assert remaining & {a["object_key"] for a in admitted} == {copies[policy.media(kept)]}
        assert len(admitted) == 4 and len({a["object_key"] for a in admitted}) == 4
        for key in kept_keys + bobs_keys:
            assert await store.exists(key), key
        needles = [str(doomed), str(derived), str(suggestion), f"users/{alice}/media/{doomed}"]
        assert await rows_mentioning(policy, needles, skip=AUDIT_TABLES) == {}
        [stone] = await policy.query("SELECT * FROM tombstones")
        assert set(dict(stone)) == {"subject", "media_id", "reason", "erased_at",
                                    "candidate_ids"}
        assert (stone["media_id"], stone["reason"]) == (doomed, "media_deleted")
        for table in AUDIT_TABLES:  # ids only: no user key, no object key, no content
            for row in await policy.query(f"SELECT t::text AS row FROM {table} t"):
                assert alice not in row["row"] and "users/" not in row["row"], (table, row)

        # 2. the user opts out of camera-roll suggestions and asks for everything to go
        response = await client.put("/v1/consent", json={"camera_roll": False,
                                                          "erase_data": True},
                                    headers=policy.headers("erin"))
        assert response.status_code == 200, response.text
        erasures = [MediaErased.from_json(v) for v in await policy.read(MEDIA_ERASED, count=2)]
        assert (erasures[-1].data.media_ids, erasures[-1].data.reason.value) == (
            [kept], "account_erasure")
        await eventually(lambda: drained(policy))
        assert await store.list_keys(f"users/{alice}/") == []
        assert await store.list_keys(f"training/{subject}/") == []
        assert await store.exists(copies[policy.media(bobs)])
        assert_no_user_key(await policy.read(TRAINING_MEDIA, count=7), alice, bob)
        assert await store.exists(bobs_keys[0])
        assert await rows_mentioning(policy, [str(kept), f"users/{alice}/"],
                                     skip=AUDIT_TABLES) == {}
        assert await rows_mentioning(policy, [str(bobs)], skip=AUDIT_TABLES)  # bob untouched

        report = (await client.get("/v1/me/training-report",
                                   headers=policy.headers("erin"))).json()
        assert {e["media_id"] for e in report["erased"]} == {str(doomed), str(kept)}
        assert {i["status"] for i in report["items"]} == {"retracted"}


async def test_erase_requires_opting_out(policy):
    app = policy.app(settings=policy.settings.model_copy(update={"gate_enabled": False}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        headers = policy.headers("gina")
        response = await client.put("/v1/consent", json={"camera_roll": True,
                                                          "erase_data": True}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "erase_requires_opt_out"
        response = await client.put("/v1/consent", json={"camera_roll": "maybe"},
                                    headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "invalid_request"
        response = await client.put("/v1/consent", json={}, headers=headers)
        assert response.json()["detail"]["code"] == "empty_change"
        assert (await client.get("/v1/consent")).status_code == 401
