"""The suggester on the real stack: each kind of suggestion, late photos, redelivery, the
never-suggest rules, opt-out and erasure."""

from __future__ import annotations

from pathlib import Path

import pytest
from gemroll_contracts import SuggestionCreated
from gemroll_testkit import eventually

from .conftest import LISBON, WAIT_S, jpeg_size

pytestmark = pytest.mark.integration

PREVIEWS = Path(__file__).resolve().parents[3] / "reports" / "test-previews" / "suggester"


def by_kind(items, kind):
    return [s for s in items if s["kind"] == kind]


def kinds(*wanted):
    return lambda items: all(by_kind(items, k) for k in wanted)


async def test_each_kind_is_suggested_with_a_rendered_preview(suggester):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=25 * i, seed=i, exposure=-1.4,
                                    gem_score=0.9 - 0.05 * i,
                                    size=(640, 427) if i % 2 else (427, 640))
              for i in range(4)]
    await suggester.classified(*photos)
    items = await suggester.wait_for(user, kinds("highlight", "collage", "edit"),
                                     "an edit, a highlight and a collage")
    ids = {p.data.media_id for p in photos}
    highlight = by_kind(items, "highlight")[0]
    assert highlight["title"] == "Saturday afternoon, 14 Mar 2026 · Lisbon"
    assert highlight["status"] == "proposed" and highlight["revision"] == 1
    assert {str(i) for i in ids} == set(highlight["media_ids"])
    collage = by_kind(items, "collage")[0]
    assert 2 <= len(collage["media_ids"]) <= 9
    edits = by_kind(items, "edit")
    assert edits and all(e["recipe"]["exposure"] > 0.5 for e in edits)

    PREVIEWS.mkdir(parents=True, exist_ok=True)
    for s in (highlight, collage, edits[0]):
        response = await suggester.client.get(s["preview_url"], headers=user.auth)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        width, height = jpeg_size(response.content)
        if s["kind"] == "edit":
            assert max(width, height) == 480
        else:
            assert width == (640 if s["kind"] == "collage" else 480)
        (PREVIEWS / f"service-{s['kind']}.jpg").write_bytes(response.content)

    events = await suggester.created(user, until=lambda es: len(es) >= len(items))
    assert {(str(e.data.suggestion_id), e.data.revision) for e in events} == {
        (s["id"], 1) for s in items}
    edit_event = next(e for e in events if str(e.data.suggestion_id) == edits[0]["id"])
    assert edit_event.data.recipe is not None
    assert edit_event.data.preview_object_key.startswith(
        f"users/{user.key}/suggestions/{edits[0]['id']}/")
    assert await suggester.store.exists(edit_event.data.preview_object_key)
    originals = [await suggester.store.get_bytes(p.data.object_key) for p in photos]
    assert all(jpeg_size(o) in ((640, 427), (427, 640)) for o in originals)  # never changed


async def test_late_photos_revise_the_same_suggestion(suggester):
    user = suggester.new_user()
    first = [await suggester.photo(user, minutes=10 * i, seed=10 + i) for i in range(3)]
    await suggester.classified(*first)
    items = await suggester.wait_for(user, kinds("highlight"), "the first highlight")
    highlight = by_kind(items, "highlight")[0]
    late = await suggester.photo(user, minutes=45, seed=20, gem_score=0.95)
    await suggester.classified(late)
    items = await suggester.wait_for(
        user, lambda its: any(s["revision"] == 2 for s in by_kind(its, "highlight")),
        "the revised highlight")
    revised = by_kind(items, "highlight")
    assert len(revised) == 1 and revised[0]["id"] == highlight["id"]
    assert str(late.data.media_id) in revised[0]["media_ids"]
    events = await suggester.created(user, until=lambda es: sum(
        str(e.data.suggestion_id) == highlight["id"] for e in es) >= 2)
    revisions = [e.data.revision for e in events if str(e.data.suggestion_id) == highlight["id"]]
    assert revisions == [1, 2]


async def test_redelivered_classifications_never_duplicate(suggester):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=5 * i, seed=30 + i) for i in range(3)]
    await suggester.classified(*photos, *photos)  # delivered twice
    await suggester.wait_for(user, kinds("highlight", "collage"), "suggestions")
    await suggester.classified(*photos)  # and again after planning
    await suggester.quiescent()
    items = await suggester.suggestions(user)
    assert len(by_kind(items, "highlight")) == 1 and len(by_kind(items, "collage")) == 1
    assert all(s["revision"] == 1 for s in items)
    events: list[SuggestionCreated] = await suggester.created(user, timeout_s=3)
    assert sorted(str(e.data.suggestion_id) for e in events) == sorted(s["id"] for s in items)


async def test_never_suggested(suggester):
    user = suggester.new_user()
    gems = [await suggester.photo(user, minutes=10 * i, seed=40 + i, gem_score=0.6)
            for i in range(3)]
    not_gem = await suggester.photo(user, minutes=5, seed=50, gem=False, gem_score=0.99)
    nsfw = await suggester.photo(user, minutes=15, seed=51, nsfw=0.95, gem_score=0.99,
                                 exposure=-1.5)
    deleted = await suggester.photo(user, minutes=25, seed=52, gem_score=0.98)
    await suggester.classified(*gems, not_gem, nsfw, deleted)
    await suggester.delete(user, deleted.data.media_id)
    items = await suggester.wait_for(user, kinds("highlight", "collage", "edit"), "suggestions")
    await suggester.quiescent()
    items = await suggester.suggestions(user)
    everywhere = {m for s in items for m in s["media_ids"]}
    assert str(not_gem.data.media_id) not in everywhere
    assert str(deleted.data.media_id) not in everywhere
    for s in items:
        if s["kind"] != "edit":
            assert str(nsfw.data.media_id) not in s["media_ids"]
    nsfw_edit = [s for s in by_kind(items, "edit") if s["media_ids"] == [str(nsfw.data.media_id)]]
    assert nsfw_edit and nsfw_edit[0]["shareable"] is False  # private edits only

    # a user who opted out gets nothing
    quiet_user = suggester.new_user()
    await suggester.consent(quiet_user, camera_roll=False, seq=1)
    await suggester.quiescent()
    await suggester.classified(*[await suggester.photo(quiet_user, minutes=i, seed=60 + i)
                                 for i in range(3)])
    await suggester.quiescent()
    assert await suggester.suggestions(quiet_user) == []
    assert await suggester.created(quiet_user, timeout_s=2) == []


async def test_opting_out_withdraws_open_suggestions(suggester):
    user = suggester.new_user()
    await suggester.classified(*[await suggester.photo(user, minutes=5 * i, seed=70 + i)
                                 for i in range(3)])
    items = await suggester.wait_for(user, kinds("highlight", "collage"), "suggestions")
    await suggester.consent(user, camera_roll=False, seq=2)
    await suggester.wait_for(user, lambda its: its == [], "open suggestions to be withdrawn")
    withdrawn = await suggester.suggestions(user, status="withdrawn")
    assert sorted(s["id"] for s in withdrawn) == sorted(s["id"] for s in items)
    response = await suggester.client.get(f"/v1/suggestions/{items[0]['id']}/preview",
                                          headers=user.auth)
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "preview_not_available"


async def test_erased_media_leave_every_suggestion_and_preview(suggester):
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=5 * i, seed=80 + i, exposure=-1.5,
                                    gem_score=0.9 - 0.1 * i) for i in range(4)]
    await suggester.classified(*photos)
    items = await suggester.wait_for(user, kinds("highlight", "edit"), "suggestions")
    victim = photos[0].data.media_id
    highlight = by_kind(items, "highlight")[0]
    edit = next(s for s in by_kind(items, "edit") if s["media_ids"] == [str(victim)])
    old_keys = await suggester.store.list_keys(f"users/{user.key}/suggestions/{edit['id']}/")
    assert old_keys
    await suggester.erase(user, [victim])
    items = await suggester.wait_for(
        user, lambda its: any(s["revision"] >= 2 and s["preview_url"]
                              for s in by_kind(its, "highlight")),
        "the highlight without the erased photo, with a new preview")
    assert str(victim) not in {m for s in items for m in s["media_ids"]}
    assert (await suggester.client.get(f"/v1/suggestions/{edit['id']}",
                                       headers=user.auth)).status_code == 404
    assert await suggester.store.list_keys(f"users/{user.key}/suggestions/{edit['id']}/") == []
    revised = by_kind(items, "highlight")[0]
    assert revised["id"] == highlight["id"]
    preview = await suggester.client.get(revised["preview_url"], headers=user.auth)
    assert preview.status_code == 200

    # photos of another place a day later make a separate event with its own suggestions
    elsewhere = [await suggester.photo(user, minutes=1440 + 5 * i, seed=90 + i,
                                       where=LISBON[:4] + "z") for i in range(3)]
    await suggester.classified(*elsewhere)
    await eventually(lambda: _highlights(suggester, user, 2), "a second highlight",
                     timeout_s=WAIT_S)


async def _highlights(suggester, user, n):
    return len(by_kind(await suggester.suggestions(user), "highlight")) >= n


async def test_a_malformed_record_is_dead_lettered_and_the_consumer_goes_on(suggester):
    from gemroll_contracts import DEAD_LETTERS, MEDIA_CLASSIFIED, DeadLetter
    from gemroll_testkit.topics import produce, read_topic

    user = suggester.new_user()
    bad = b'{"event_type": "media.classified", "data": {"media_id": "nope"}}'
    await produce(suggester.env.kafka.bootstrap_servers,
                  suggester.env.topic(MEDIA_CLASSIFIED), bad, key=user.key.encode())
    await suggester.classified(*[await suggester.photo(user, minutes=i, seed=130 + i)
                                 for i in range(3)])
    await suggester.wait_for(user, kinds("highlight"), "suggestions after the bad record")
    letters = [DeadLetter.from_json(v) for v in await read_topic(
        suggester.env.kafka.bootstrap_servers, suggester.env.topic(DEAD_LETTERS),
        until=lambda vs: any(DeadLetter.from_json(v).data.original_value == bad for v in vs))]
    mine = [x for x in letters if x.data.original_value == bad]
    assert len(mine) == 1
    assert mine[0].data.consumer_group == suggester.group(MEDIA_CLASSIFIED)
    assert mine[0].data.source_topic == suggester.env.topic(MEDIA_CLASSIFIED)
