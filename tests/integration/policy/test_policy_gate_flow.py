"""The policy service on the real stack: consent API, held/admitted/rejected candidates,
revocation within seconds, dead letters, the training report and the audit chain."""

from __future__ import annotations

import json
import uuid
from uuid import UUID

import httpx
import pytest
from gemroll_common.media_privacy import find_metadata
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    ConsentChanged,
    DeadLetter,
    TrainingRejected,
)
from gemroll_policy.adapters.postgres import PostgresAuditReader
from gemroll_policy.domain import Pseudonymizer, training_key, verify
from gemroll_testkit import eventually
from gemroll_testkit.events import action, assert_no_user_key, candidate

pytestmark = pytest.mark.integration


def by_type(values: list[bytes]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for value in values:
        event = json.loads(value)
        out.setdefault(event["event_type"], []).append(event["data"])
    return out


async def test_consent_gate_revocation_and_report(policy):
    app = policy.app()
    alice, bob = policy.user_key("alice"), policy.user_key("bob")
    held_media, shared_media, bobs_media = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    subject = Pseudonymizer(policy.settings.pseudonym_secret.get_secret_value()).subject(alice)

    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        # consent: fail closed until set, then append-only and published
        response = await client.get("/v1/consent", headers=policy.headers("alice"))
        assert response.json() == {"camera_roll": False, "training_opt_out": False,
                                   "ledger_seq": 0, "changed_at": None}
        response = await client.put("/v1/consent", json={"camera_roll": True},
                                    headers=policy.headers("alice"))
        assert response.status_code == 200, response.text
        assert response.json()["ledger_seq"] == 1
        [published] = await policy.read(CONSENT)
        changed = ConsentChanged.from_json(published)
        assert (changed.data.user_key, changed.data.camera_roll, changed.data.ledger_seq) == (
            alice, True, 1)

        # candidates: held without evidence, admitted with it, rejected without consent
        share = action(alice, shared_media, ActionKind.shared)
        await policy.produce(USER_ACTIONS, [share])
        proposed = [candidate(alice, held_media), candidate(alice, shared_media),
                    candidate(bob, bobs_media)]
        await policy.put_sources(proposed)
        await policy.produce(TRAINING_CANDIDATES, proposed)
        training = by_type(await policy.read(TRAINING_MEDIA, count=1))
        [admitted] = training["training.admitted"]
        assert admitted["media_id"] == policy.media(shared_media)
        # the event names the pseudonymous training copy, which the gate made before deciding
        assert admitted["object_key"] == training_key(subject, UUID(admitted["candidate_id"]))
        store = ObjectStore(policy.env.s3)
        copy = await store.get_bytes(admitted["object_key"])
        assert find_metadata(await store.get_bytes(proposed[1].data.object_key))
        assert find_metadata(copy) == []  # no GPS, serial, owner, XMP: the picture only
        assert admitted["evidence"] == [str(policy.pseudonyms.opaque("action", share.event_id))]
        assert admitted["basis"] == "shared" and admitted["subject"] == subject
        [rejected] = [TrainingRejected.from_json(v) for v in await policy.read(TRAINING_DECISIONS)]
        assert str(rejected.data.media_id) == policy.media(bobs_media)
        assert rejected.data.reason.value == "not_opted_in"
        [pending] = await policy.query("SELECT media_id FROM candidates WHERE status='pending'")
        assert pending["media_id"] == held_media

        edit = action(alice, held_media, ActionKind.edited_with_ai)
        await policy.produce(USER_ACTIONS, [edit])
        training = by_type(await policy.read(TRAINING_MEDIA, count=2))
        assert {a["media_id"] for a in training["training.admitted"]} == {
            policy.media(held_media), policy.media(shared_media)}

        # revocation: unshare, then training opt-out through the API
        await policy.produce(USER_ACTIONS, [action(alice, shared_media, ActionKind.unshared)])
        training = by_type(await policy.read(TRAINING_MEDIA, count=3))
        [retracted] = training["training.retracted"]
        assert (retracted["media_id"], retracted["reason"]) == (policy.media(shared_media),
                                                                "unshared")
        response = await client.put("/v1/consent", json={"training_opt_out": True},
                                    headers=policy.headers("alice"))
        assert response.json()["training_opt_out"] is True
        assert response.json()["camera_roll"] is True
        values = await policy.read(TRAINING_MEDIA, count=4)
        training = by_type(values)
        assert {(r["media_id"], r["reason"]) for r in training["training.retracted"]} == {
            (policy.media(shared_media), "unshared"),
            (policy.media(held_media), "training_opt_out")}
        assert_no_user_key(values + await policy.read(TRAINING_DECISIONS), alice, bob)

        async def copies_deleted() -> bool:  # retracted: the training copies go too
            return not any([await store.exists(a["object_key"])
                            for a in training["training.admitted"]])

        await eventually(copies_deleted)

        # transparency
        report = (await client.get("/v1/me/training-report",
                                   headers=policy.headers("alice"))).json()
        assert {(i["media_id"], i["status"], i["basis"], i["retraction_reason"])
                for i in report["items"]} == {
            (str(shared_media), "retracted", "shared", "unshared"),
            (str(held_media), "retracted", "edited_with_ai", "training_opt_out")}
        assert all(i["admitted_at"] and i["retracted_at"] for i in report["items"])
        bobs = (await client.get("/v1/me/training-report", headers=policy.headers("bob"))).json()
        assert bobs == {"items": [], "erased": []}

        # the ledger is append-only and the audit chain verifies
        ledger = await policy.query("SELECT ledger_seq FROM consent_ledger WHERE user_key=$1 "
                                    "ORDER BY ledger_seq", alice)
        assert [r["ledger_seq"] for r in ledger] == [1, 2]
        records = await PostgresAuditReader(app.state.runtime.pool).records()
        assert verify(records).ok
        kinds = [e["kind"] for r in records for e in r.entries]
        assert kinds.count("admitted") == 2 and kinds.count("consent_changed") == 2
        assert all(alice not in json.dumps(r.entries) for r in records)


async def test_invalid_candidates_are_dead_lettered_and_the_gate_goes_on(policy):
    app = policy.app()
    alice = policy.user_key("alice")
    async with app.router.lifespan_context(app):
        from gemroll_testkit.topics import produce

        await produce(policy.env.kafka.bootstrap_servers,
                      policy.env.topic(TRAINING_CANDIDATES), b'{"event_type": "nope"}')
        await policy.produce(TRAINING_CANDIDATES, [candidate(alice, uuid.uuid4())])
        [letter] = [DeadLetter.from_json(v) for v in await policy.read(DEAD_LETTERS)]
        assert letter.data.original_value == b'{"event_type": "nope"}'
        assert letter.data.consumer_group.startswith("policy.gate")
        [rejected] = await policy.read(TRAINING_DECISIONS)
        assert TrainingRejected.from_json(rejected).data.reason.value == "not_opted_in"


async def test_audit_tampering_is_detected(policy):
    app = policy.app()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for change in ({"camera_roll": True}, {"training_opt_out": True},
                       {"camera_roll": False}):
            response = await client.put("/v1/consent", json=change,
                                        headers=policy.headers("carol"))
            assert response.status_code == 200
        reader = PostgresAuditReader(app.state.runtime.pool)
        assert verify(await reader.records()).ok

        conn = await policy.connect()
        try:
            with pytest.raises(Exception, match="append-only"):
                await conn.execute("UPDATE audit_log SET entries = '[]' WHERE seq = 2")
            with pytest.raises(Exception, match="append-only"):
                await conn.execute("DELETE FROM consent_ledger")
            # someone with the power to switch the guard off still leaves a trace
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute("""UPDATE audit_log SET entries = jsonb_set(entries,
                                  '{0,camera_roll}', 'true') WHERE seq = 3""")
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        finally:
            await conn.close()
        check = verify(await reader.records())
        assert not check.ok and check.first_bad_seq == 3
        # the auditors' command says the same
        from gemroll_policy.verify_audit import check as verify_command

        result = await verify_command(policy.env.database, policy.settings)
        assert (result["ok"], result["first_bad_seq"]) == (False, 3)
