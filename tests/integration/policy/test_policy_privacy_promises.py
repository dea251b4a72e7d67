"""The privacy promises, tried the way an adversary or an auditor would, on the real stack:
training copies without metadata, a quick opt-out and opt-in, forged candidates and actions,
a poison admission next to a retraction, evidence given while opted out, and erasure of media
the gate only knows from its upload."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from gemroll_common import video, video_privacy
from gemroll_common.media_privacy import find_metadata
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    CONSENT,
    DEAD_LETTERS,
    MEDIA_ERASED,
    MEDIA_UPLOADED,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    ActionKind,
    DeadLetter,
    MediaErased,
)
from gemroll_policy.domain import Pseudonymizer
from gemroll_testkit import clips, eventually, photos
from gemroll_testkit.events import action, candidate, uploaded
from gemroll_testkit.topics import group_lags
from PIL import Image

pytestmark = pytest.mark.integration


def events(values: list[bytes], event_type: str) -> list[dict]:
    return [json.loads(v)["data"] for v in values if json.loads(v)["event_type"] == event_type]


async def opt_in(client: httpx.AsyncClient, policy, account: str, **change) -> None:
    response = await client.put("/v1/consent", json={"camera_roll": True, **change},
                                headers=policy.headers(account))
    assert response.status_code == 200, response.text


async def shared_and_admitted(policy, original: bytes, content_type: str, *,
                              then_deleted: bool = False) -> list[str]:
    """A fresh user (the bucket outlives test runs) shares `original`; every training object
    of theirs once it is admitted, for the auditor to read back. `then_deleted`: the user
    deletes the media next, and every training object of theirs must be gone."""
    app = policy.app()
    account = f"audit-{uuid.uuid4().hex[:8]}"
    alice, media = policy.user_key(account), uuid.uuid4()
    store = ObjectStore(policy.env.s3)
    proposed = candidate(alice, media)
    await store.put_bytes(proposed.data.object_key, original, content_type)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, account)
        await policy.produce(USER_ACTIONS, [action(alice, media, ActionKind.shared)])
        await policy.produce(TRAINING_CANDIDATES, [proposed])
        [admitted] = events(await policy.read(TRAINING_MEDIA), "training.admitted")
        subject = Pseudonymizer(policy.settings.pseudonym_secret.get_secret_value()).subject(
            alice)
        keys = await store.list_keys(f"training/{subject}/")
        assert keys == [admitted["object_key"]]
        if then_deleted:
            await policy.produce(USER_ACTIONS, [
                action(alice, media, ActionKind.media_deleted, producer="ingest")])

            async def erased() -> bool:
                return await store.list_keys(f"training/{subject}/") == []

            await eventually(erased, "the training copy erased", timeout_s=30)
    return keys


async def test_training_copies_carry_no_location_serial_owner_or_xmp(policy):
    original = photos.phone_jpeg()
    assert {"gps", "serial_owner_or_makernote", "xmp"} <= set(find_metadata(original))
    store = ObjectStore(policy.env.s3)
    # every training object of the run, read back: the picture only, upright, colour kept
    for key in await shared_and_admitted(policy, original, "image/jpeg"):
        copy = await store.get_bytes(key)
        assert find_metadata(copy) == []
        assert b"SERIAL-0042" not in copy and b"Alice Example" not in copy
        with Image.open(io.BytesIO(copy)) as image:
            assert image.size == (240, 320)  # the EXIF rotation is applied to the pixels
            assert image.info.get("icc_profile")


@pytest.mark.parametrize(("container", "codec"), [("mov", "hevc"), ("mp4", "h264")])
async def test_a_video_training_copy_carries_the_pictures_only(policy, tmp_path, container,
                                                                codec):
    """A shared phone clip (location, creation time, a voice) is admitted as its video
    stream alone: the auditor scans every training object of the user and finds nothing."""
    original = clips.clip(container=container, codec=codec, seconds=2, audio=True,
                          created_at=datetime(2026, 5, 1, 8, 15, tzinfo=UTC),
                          location=(48.8584, 2.2945))
    store = ObjectStore(policy.env.s3)
    for key in await shared_and_admitted(policy, original, "video/quicktime"):
        copy = tmp_path / "copy.mp4"
        copy.write_bytes(await store.get_bytes(key))
        assert video_privacy.find_metadata(copy) == []
        facts = video.probe(copy)
        assert facts.location is None and facts.created_at is None and not facts.has_audio
        assert facts.video_codec == codec and facts.duration_s == pytest.approx(2, abs=0.15)
        assert b"48.8584" not in copy.read_bytes()


async def test_deleting_a_video_erases_its_training_copy(policy):
    """The store scan after the user deletes an admitted clip finds no training object."""
    original = clips.clip(container="mov", codec="hevc", seconds=2, location=(48.8584, 2.2945))
    assert await shared_and_admitted(policy, original, "video/quicktime", then_deleted=True)


async def gate_idle(policy) -> bool:
    """All written so far is decided and out: no admission waits for its copy, the outbox
    is published and the gate's group has committed everything it consumes (it commits
    after deciding)."""
    [row] = await policy.query("SELECT (SELECT count(*) FROM outbox) "
                               "+ (SELECT count(*) FROM copy_retries) AS n")
    group = policy.gate_group
    inputs = [policy.env.topic(t)
              for t in (CONSENT, MEDIA_UPLOADED, USER_ACTIONS, TRAINING_CANDIDATES)]
    return row["n"] == 0 and (await group_lags(policy.env.kafka.bootstrap_servers,
                                               {group: inputs}))[group] == 0


async def test_opting_out_and_straight_back_in_retracts_within_seconds(policy):
    """The API writes both changes before the gate consumes the first: the opt-out retracts
    all the same, and the old share does not admit again after the opt-in."""
    app = policy.app()
    alice, media = policy.user_key("flip"), uuid.uuid4()
    proposed = candidate(alice, media)
    await policy.put_sources([proposed])
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, "flip")
        await policy.produce(USER_ACTIONS, [action(alice, media, ActionKind.shared)])
        await policy.produce(TRAINING_CANDIDATES, [proposed])
        await policy.read(TRAINING_MEDIA)
        started = time.monotonic()
        out, back = await asyncio.gather(
            client.put("/v1/consent", json={"training_opt_out": True},
                       headers=policy.headers("flip")),
            asyncio.sleep(0))
        assert out.status_code == 200
        back = await client.put("/v1/consent", json={"training_opt_out": False},
                                headers=policy.headers("flip"))
        assert back.json()["training_opt_out"] is False
        values = await policy.read(TRAINING_MEDIA, count=2, timeout_s=5)
        assert time.monotonic() - started < 5
        [retracted] = events(values, "training.retracted")
        assert retracted["candidate_id"] == policy.training_id(proposed.data.candidate_id)
        assert retracted["reason"] in ("training_opt_out", "consent_withdrawn")
        await eventually(lambda: gate_idle(policy), "the gate to decide both changes")
        # nothing is admitted again on the old evidence
        assert len(events(await policy.read(TRAINING_MEDIA, count=2), "training.admitted")) == 1


async def test_forged_candidates_and_actions_are_dead_lettered_and_copy_nothing(policy):
    app = policy.app()
    alice, bob = policy.user_key("mallory-target"), policy.user_key("bob-victim")
    alices, bobs = uuid.uuid4(), uuid.uuid4()
    store = ObjectStore(policy.env.s3)
    bobs_photo = f"users/{bob}/media/{bobs}"
    await store.put_bytes(bobs_photo, photos.phone_jpeg(), "image/jpeg")
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, "mallory-target")
        # a compromised writer: Bob's photo proposed under Alice's consent and share,
        # and a share claimed by a service that never produces shares
        await policy.produce(USER_ACTIONS, [
            action(alice, alices, ActionKind.shared),
            action(alice, uuid.uuid4(), ActionKind.shared, producer="ingest")])
        await policy.produce(TRAINING_CANDIDATES, [
            candidate(alice, alices, object_key=bobs_photo),
            candidate(alice, alices, bucket="another-bucket").model_copy(
                update={"producer": "suggester"})])
        letters = [DeadLetter.from_json(v) for v in await policy.read(DEAD_LETTERS, count=3)]
        assert len(letters) == 3
        assert all("ForgedEvent" in letter.data.error_type for letter in letters), letters
    assert await policy.read(TRAINING_MEDIA, count=1, timeout_s=2) == []
    assert [k for k in await store.list_keys("training/")
            if Pseudonymizer(policy.settings.pseudonym_secret.get_secret_value())
            .subject(alice) in k] == []


async def test_a_poison_admission_does_not_hold_back_a_retraction(policy):
    app = policy.app()
    alice, admitted_media, poison = policy.user_key("poison"), uuid.uuid4(), uuid.uuid4()
    store = ObjectStore(policy.env.s3)
    good, bad = candidate(alice, admitted_media), candidate(alice, poison)
    await policy.put_sources([good])
    await store.put_bytes(bad.data.object_key, b"\xff\xd8\xff\xe0 not an image at all",
                          "image/jpeg")
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, "poison")
        await policy.produce(USER_ACTIONS, [action(alice, admitted_media, ActionKind.shared)])
        await policy.produce(TRAINING_CANDIDATES, [good])
        await policy.read(TRAINING_MEDIA)
        # in one stream: the poison admission, then an unshare of the admitted item
        await policy.produce(USER_ACTIONS, [action(alice, poison, ActionKind.shared)])
        await policy.produce(TRAINING_CANDIDATES, [bad])
        await policy.produce(USER_ACTIONS, [action(alice, admitted_media, ActionKind.unshared)])
        values = await policy.read(TRAINING_MEDIA, count=2, timeout_s=10)
        [retracted] = events(values, "training.retracted")
        assert (retracted["media_id"], retracted["reason"]) == (policy.media(admitted_media),
                                                                "unshared")
        [rejected] = events(await policy.read(TRAINING_DECISIONS), "training.rejected")
        assert (rejected["media_id"], rejected["reason"]) == (policy.media(poison),
                                                              "source_unusable")


async def test_a_share_made_while_opted_out_admits_nothing_after_opting_in(policy):
    app = policy.app()
    alice, media = policy.user_key("early-share"), uuid.uuid4()
    proposed = candidate(alice, media)
    await policy.put_sources([proposed])
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, "early-share", training_opt_out=True)
        share = action(alice, media, ActionKind.shared)
        await policy.produce(USER_ACTIONS, [share])

        async def recorded() -> bool:
            return bool(await policy.query("SELECT 1 FROM actions WHERE event_id = $1",
                                           share.event_id))

        await eventually(recorded, timeout_s=15)
        await opt_in(client, policy, "early-share", training_opt_out=False)
        await policy.produce(TRAINING_CANDIDATES, [proposed])

        async def held() -> bool:
            rows = await policy.query("SELECT status FROM candidates")
            return [r["status"] for r in rows] == ["pending"]

        await eventually(held, timeout_s=15)
        assert await policy.read(TRAINING_MEDIA, count=1, timeout_s=1) == []
        # a share under the current consent is evidence
        await policy.produce(USER_ACTIONS, [action(alice, media, ActionKind.shared)])
        [admitted] = events(await policy.read(TRAINING_MEDIA), "training.admitted")
        assert admitted["media_id"] == policy.media(media)


async def test_account_erasure_reaches_media_the_gate_only_knows_from_its_upload(
        policy):
    app = policy.app()
    alice = policy.user_key("unclassified")
    media = [uuid.uuid4() for _ in range(15)]
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await opt_in(client, policy, "unclassified")
        await policy.produce(MEDIA_UPLOADED, [uploaded(alice, m) for m in media])

        async def registered() -> bool:  # the classifier has not got to any of them
            rows = await policy.query("SELECT count(*) AS n FROM media")
            return rows[0]["n"] == len(media)

        await eventually(registered, timeout_s=15)
        response = await client.put("/v1/consent", json={"camera_roll": False,
                                                         "erase_data": True},
                                    headers=policy.headers("unclassified"))
        assert response.status_code == 200
        [erased] = [MediaErased.from_json(v) for v in await policy.read(MEDIA_ERASED)]
        assert set(erased.data.media_ids) == set(media)
        assert erased.data.reason.value == "account_erasure"


async def test_a_training_copy_whose_commit_rolled_back_is_found_and_erased(policy):
    """PostgreSQL and S3 for real: the copy is written, the admission's transaction fails,
    the user opts out before the copier tries again; the orphaned copy is erased."""
    from datetime import UTC, datetime, timedelta

    from gemroll_common.db import create_pool, migrate
    from gemroll_policy.adapters.postgres import PostgresErasureQueue, PostgresGateStore
    from gemroll_policy.adapters.storage import S3TrainingObjects
    from gemroll_policy.adapters.workers import ErasureWorker
    from gemroll_policy.usecases import GateHandler
    from gemroll_testkit.events import consent

    class CommitFailsOnce(PostgresGateStore):
        fail = True

        def unit_of_work(self):
            outer = super().unit_of_work()
            store = self

            class Failing:
                async def __aenter__(self):
                    uow = await outer.__aenter__()
                    save = uow.save

                    async def failing_save(ws, changes):
                        await save(ws, changes)
                        if store.fail:
                            store.fail = False
                            raise ConnectionResetError("connection lost at commit")
                        return []

                    uow.save = failing_save
                    return uow

                async def __aexit__(self, *exc):
                    return await outer.__aexit__(*exc)

            return Failing()

    now = [datetime.now(UTC)]
    pool = await create_pool(policy.env.database, policy.schema)
    try:
        await migrate(pool, policy.schema, "gemroll_policy")
        pseudonyms = Pseudonymizer(policy.settings.pseudonym_secret.get_secret_value())
        objects = ObjectStore(policy.env.s3)
        copies = S3TrainingObjects(objects)
        gate = GateHandler(CommitFailsOnce(pool, policy.schema, pseudonyms), pseudonyms,
                           retention_days=30, clock=lambda: now[0], objects=copies)
        user, media = policy.user_key("rolled-back"), uuid.uuid4()
        proposed = candidate(user, media)
        await policy.put_sources([proposed])
        subject = pseudonyms.subject(user)
        CommitFailsOnce.fail = False
        await gate.handle([consent(user, at=now[0] - timedelta(minutes=1)),
                           action(user, media, ActionKind.shared)])
        await gate.handle([proposed])  # admitted: waits in the copy queue
        CommitFailsOnce.fail = True
        with pytest.raises(ConnectionResetError):
            await gate.copy_admissions()
        assert len(await objects.list_keys(f"training/{subject}/")) == 1  # written, rolled back
        await gate.handle([consent(user, training_opt_out=True, seq=2, at=now[0]), proposed])
        [row] = await policy.query("SELECT status, reason FROM candidates")
        assert (row["status"], row["reason"]) == ("rejected", "training_opt_out")
        now[0] += timedelta(minutes=6)
        await gate.copy_admissions()
        await ErasureWorker(PostgresErasureQueue(pool), objects, interval_s=1).run_once(100)
        assert await objects.list_keys(f"training/{subject}/") == []
        assert await policy.query("SELECT 1 FROM copy_intents") == []
    finally:
        await pool.close()
