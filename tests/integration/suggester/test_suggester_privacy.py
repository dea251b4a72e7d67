"""Privacy promises on the real stack (Kafka, PostgreSQL, S3): unsharing publishes `unshared`,
the public topic forgets deleted photos (a read_committed subscriber ends up with no trace of
them), renditions whose action never committed are erased, and renditions carry no metadata."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from gemroll_contracts import (
    USER_ACTIONS,
    SuggestionCreated,
    SuggestionWithdrawn,
    UserAction,
    WithdrawalReason,
)
from gemroll_suggester.usecases import renditions, user_actions
from gemroll_testkit import eventually
from gemroll_testkit.photos import PHONE_SERIAL, phone_jpeg
from PIL import Image

from .conftest import WAIT_S

pytestmark = pytest.mark.integration


def by_kind(items, kind):
    return [s for s in items if s["kind"] == kind]


async def act(suggester, user, suggestion_id, action, expect=200):
    response = await suggester.client.post(f"/v1/suggestions/{suggestion_id}/actions",
                                           json={"action": action}, headers=user.auth)
    assert response.status_code == expect, response.text
    return response.json()


def latest(events):
    """A subscriber's view: the highest revision per suggestion id, over both event types."""
    state = {}
    for e in events:
        if isinstance(e, SuggestionCreated | SuggestionWithdrawn):
            held = state.get(e.data.suggestion_id)
            if held is None or e.data.revision > held.data.revision:
                state[e.data.suggestion_id] = e
    return state


async def test_unshare_publishes_unshared_for_every_photo(suggester):
    user = suggester.new_user()
    await suggester.classified(*[await suggester.photo(user, minutes=10 * i, seed=300 + i)
                                 for i in range(3)])
    items = await suggester.wait_for(
        user, lambda its: by_kind(its, "highlight") and by_kind(its, "collage"), "suggestions")
    highlight, collage = by_kind(items, "highlight")[0], by_kind(items, "collage")[0]

    refused = await act(suggester, user, collage["id"], "unshare", expect=409)
    assert refused["detail"]["code"] == "not_shared"

    await act(suggester, user, highlight["id"], "share")
    done = await act(suggester, user, highlight["id"], "unshare")
    assert done["applied"] and done["suggestion"]["status"] == "proposed"
    assert "share" not in done["suggestion"]["actions"]
    assert (await act(suggester, user, highlight["id"], "unshare"))["applied"] is False

    n = len(highlight["media_ids"])
    actions: list[UserAction] = await suggester.topic(
        USER_ACTIONS, user, until=lambda es: len(es) >= 2 * n, timeout_s=20)
    unshared = [a for a in actions if a.data.action.value == "unshared"]
    assert sorted(str(a.data.media_id) for a in unshared) == sorted(highlight["media_ids"])
    assert all(str(a.data.suggestion_id) == highlight["id"] for a in unshared)
    assert all(a.producer == "suggester" for a in unshared)


async def test_a_deleted_photo_leaves_the_public_topic(suggester):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=10 * i, seed=320 + i, exposure=-1.5,
                                    gem_score=0.9 - 0.05 * i) for i in range(4)]
    await suggester.classified(*photos)
    await suggester.wait_for(
        user, lambda its: all(by_kind(its, k) for k in ("highlight", "collage", "edit")),
        "suggestions of every kind")
    await suggester.quiescent()
    victim = photos[0].data.media_id
    before = latest(await suggester.created(user, timeout_s=3))
    showing = {sid for sid, e in before.items()
               if isinstance(e, SuggestionCreated) and victim in e.data.media_ids}
    assert len(showing) >= 3  # highlight, collage and the victim's edit

    await suggester.delete(user, victim)

    def forgotten(events) -> bool:
        now = latest(events)
        return all(now[sid].data.revision > before[sid].data.revision for sid in showing)

    events = await suggester.created(user, until=forgotten, timeout_s=30)  # read_committed
    now = latest(events)
    assert forgotten(events), "every suggestion showing the photo is published again"
    for sid in showing:
        current = now[sid]
        assert str(victim) not in current.to_json().decode()
        if isinstance(current, SuggestionWithdrawn):
            assert current.data.reason is WithdrawalReason.media_removed
    edits = [sid for sid in showing if before[sid].data.kind.value == "edit"]
    assert edits and all(isinstance(now[sid], SuggestionWithdrawn) for sid in edits)


async def test_an_erased_photo_withdraws_a_collage_left_with_one(suggester):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=10 * i, seed=340 + i) for i in range(2)]
    await suggester.classified(*photos)
    items = await suggester.wait_for(user, lambda its: by_kind(its, "collage"), "a collage")
    collage = by_kind(items, "collage")[0]
    await suggester.erase(user, [photos[1].data.media_id])

    def withdrawn(events) -> bool:
        return any(isinstance(e, SuggestionWithdrawn) and str(e.data.suggestion_id)
                   == collage["id"] for e in events)

    events = await suggester.created(user, until=withdrawn, timeout_s=30)
    gone = [e for e in events if isinstance(e, SuggestionWithdrawn)
            and str(e.data.suggestion_id) == collage["id"]]
    assert len(gone) == 1 and gone[0].data.revision == collage["revision"] + 1
    assert str(photos[1].data.media_id) not in gone[0].to_json().decode()
    await suggester.wait_for(user, lambda its: not by_kind(its, "collage"),
                             "the collage to leave the listing")


async def _schema_rows(suggester, sql: str, *args):
    conn = await asyncpg.connect(suggester.env.database.url.get_secret_value())
    try:
        return await conn.fetch(sql.format(schema=suggester.settings.db_schema), *args)
    finally:
        await conn.close()


async def test_renditions_are_clean_and_never_orphaned(suggester, monkeypatch):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=10 * i, seed=360 + i, exposure=-1.6,
                                    gem_score=0.9 - 0.05 * i) for i in range(2)]
    icc = {}  # each original's own profile (a new sRGB profile has a new creation time)
    for p in photos:  # the originals carry what phones write: GPS, serials, XMP, ICC
        data = phone_jpeg(await suggester.store.get_bytes(p.data.object_key), orientation=1,
                          quality=92)
        await suggester.store.put_bytes(p.data.object_key, data, "image/jpeg")
        icc[str(p.data.media_id)] = Image.open(io.BytesIO(data)).info["icc_profile"]
    await suggester.classified(*photos)
    items = await suggester.wait_for(user, lambda its: len(by_kind(its, "edit")) == 2,
                                     "two edit suggestions")
    kept, doomed = by_kind(items, "edit")

    # a rendition that is committed: read back, it has no EXIF/GPS/XMP, but the ICC profile
    done = await act(suggester, user, kept["id"], "edit")
    key = f"users/{user.key}/derived/{done['derived_media_id']}.jpg"
    for data in (await suggester.store.get_bytes(key),
                 (await suggester.client.get(f"/v1/suggestions/{kept['id']}/rendition",
                                             headers=user.auth)).content):
        image = Image.open(io.BytesIO(data))
        assert len(image.getexif()) == 0 and not image.getexif().get_ifd(0x8825)
        assert "xmp" not in image.info and not image.info.get("comment")
        assert PHONE_SERIAL.encode() not in data and b"GPSLatitude" not in data
        assert image.info.get("icc_profile") == icc[kept["media_ids"][0]]

    # a rendition written to S3 whose action's transaction never commits
    async def crash(*args, **kwargs):
        raise ConnectionResetError("the database went away before the commit")

    monkeypatch.setattr(user_actions, "_commit_action", crash)
    failed = await suggester.client.post(f"/v1/suggestions/{doomed['id']}/actions",
                                         json={"action": "edit"}, headers=user.auth)
    assert failed.status_code == 503, failed.text  # a dependency went away: try again
    monkeypatch.undo()
    orphans = [k for k in await suggester.store.list_keys(f"users/{user.key}/derived/")
               if k != key]
    assert len(orphans) == 1
    recorded = await _schema_rows(
        suggester, "SELECT object_key FROM {schema}.rendition_objects WHERE user_key = $1",
        user.key)
    assert {r["object_key"] for r in recorded} == {key, orphans[0]}

    # the sweep leaves it alone during the grace period, then deletes it (not the kept one)
    deps = suggester.client._transport.app.state.deps  # noqa: SLF001 - the in-process app
    now = datetime.now(UTC)
    assert orphans[0] in await suggester.store.list_keys(f"users/{user.key}/derived/")
    await renditions.sweep_orphan_renditions(deps, now - timedelta(hours=1))
    assert orphans[0] in await suggester.store.list_keys(f"users/{user.key}/derived/")

    # erasing the photo deletes its orphaned rendition too (by the record), and the kept
    # photo's rendition is left alone
    doomed_media = doomed["media_ids"][0]
    await suggester.erase(user, [uuid.UUID(doomed_media)])

    async def erased() -> bool:
        return orphans[0] not in await suggester.store.list_keys(f"users/{user.key}/derived/")

    await eventually(erased, "the orphaned rendition to be erased", timeout_s=WAIT_S)
    assert await suggester.store.exists(key)
    left = await _schema_rows(
        suggester, "SELECT object_key FROM {schema}.rendition_objects WHERE user_key = $1",
        user.key)
    assert {r["object_key"] for r in left} == {key}


async def test_the_sweep_deletes_orphans_on_the_real_stack(suggester, monkeypatch):
    user = suggester.new_user()
    photo = await suggester.photo(user, seed=380, exposure=-1.6)
    await suggester.classified(photo)
    items = await suggester.wait_for(user, lambda its: by_kind(its, "edit"), "an edit")

    async def crash(*args, **kwargs):
        raise ConnectionResetError("the database went away before the commit")

    monkeypatch.setattr(user_actions, "_commit_action", crash)
    failed = await suggester.client.post(f"/v1/suggestions/{items[0]['id']}/actions",
                                         json={"action": "edit"}, headers=user.auth)
    assert failed.status_code == 503, failed.text  # a dependency went away: try again
    monkeypatch.undo()
    prefix = f"users/{user.key}/derived/"
    assert len(await suggester.store.list_keys(prefix)) == 1
    deps = suggester.client._transport.app.state.deps  # noqa: SLF001 - the in-process app
    swept = await renditions.sweep_orphan_renditions(
        deps, datetime.now(UTC) + timedelta(seconds=5))
    assert swept >= 1
    assert await suggester.store.list_keys(prefix) == []
    assert not await _schema_rows(
        suggester, "SELECT 1 FROM {schema}.rendition_objects WHERE user_key = $1", user.key)
