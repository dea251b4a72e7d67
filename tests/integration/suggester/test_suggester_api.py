"""The HTTP API on the real stack: every action with the events it publishes, renditions,
idempotency, the status rules, and auth (owner only)."""

from __future__ import annotations

import uuid

import pytest
from gemroll_common.settings import AuthSettings
from gemroll_contracts import TRAINING_CANDIDATES, USER_ACTIONS, TrainingCandidate, UserAction
from pydantic import SecretStr

from .conftest import jpeg_size

pytestmark = pytest.mark.integration


def by_kind(items, kind):
    return [s for s in items if s["kind"] == kind]


async def planned(suggester, *, n: int = 4, exposure: float = -1.4):
    """A user with an edit, a highlight and a collage."""
    user = suggester.new_user()
    photos = [await suggester.photo(user, minutes=15 * i, seed=100 + i, exposure=exposure,
                                    gem_score=0.9 - 0.05 * i) for i in range(n)]
    await suggester.classified(*photos)
    items = await suggester.wait_for(
        user, lambda its: all(by_kind(its, k) for k in ("edit", "highlight", "collage")),
        "suggestions of every kind")
    return user, photos, items


async def act(suggester, user, suggestion_id, action, expect=200):
    response = await suggester.client.post(f"/v1/suggestions/{suggestion_id}/actions",
                                           json={"action": action}, headers=user.auth)
    assert response.status_code == expect, response.text
    return response.json()


async def test_every_action_publishes_user_actions(suggester):
    user, photos, items = await planned(suggester)
    edit = by_kind(items, "edit")[0]
    highlight = by_kind(items, "highlight")[0]
    collage = by_kind(items, "collage")[0]

    # edit: the AI edit is rendered at full size, stored, linked and proposed for training
    done = await act(suggester, user, edit["id"], "edit")
    assert done["applied"] and done["suggestion"]["status"] == "edited"
    derived_id = done["derived_media_id"]
    key = f"users/{user.key}/derived/{derived_id}.jpg"
    assert await suggester.store.exists(key)
    original = next(p for p in photos if str(p.data.media_id) == edit["media_ids"][0])
    assert jpeg_size(await suggester.store.get_bytes(key)) == (original.data.width,
                                                               original.data.height)
    rendition = await suggester.client.get(f"/v1/suggestions/{edit['id']}/rendition",
                                           headers=user.auth)
    assert rendition.status_code == 200 and jpeg_size(rendition.content) == (640, 427)

    # save after edit keeps the same rendition; share, save and dismiss on the others
    saved = await act(suggester, user, edit["id"], "save")
    assert saved["suggestion"]["status"] == "saved" and saved["derived_media_id"] == derived_id
    shared = await act(suggester, user, highlight["id"], "share")
    assert shared["suggestion"]["status"] == "shared"
    dismissed = await act(suggester, user, collage["id"], "dismiss")
    assert dismissed["suggestion"]["status"] == "dismissed"

    # repeats change nothing and publish nothing
    assert (await act(suggester, user, highlight["id"], "share"))["applied"] is False
    assert (await act(suggester, user, edit["id"], "edit"))["applied"] is False

    expected = {(edit["media_ids"][0], "edited_with_ai"), (edit["media_ids"][0], "saved")}
    expected |= {(m, "shared") for m in highlight["media_ids"]}
    expected |= {(m, "dismissed") for m in collage["media_ids"]}
    actions: list[UserAction] = await suggester.topic(
        USER_ACTIONS, user, until=lambda es: len(es) >= len(expected), timeout_s=20)
    assert sorted((str(a.data.media_id), a.data.action.value) for a in actions) == sorted(expected)
    assert all(a.producer == "suggester" for a in actions)
    for a in actions:
        if str(a.data.suggestion_id) == edit["id"]:
            assert str(a.data.derived_media_id) == derived_id
        else:
            assert a.data.derived_media_id is None

    candidates: list[TrainingCandidate] = await suggester.topic(
        TRAINING_CANDIDATES, user, until=lambda es: len(es) >= 1, timeout_s=10)
    assert len(candidates) == 1
    candidate = candidates[0].data
    assert candidate.source.value == "suggester" and str(candidate.derived_media_id) == derived_id
    assert str(candidate.media_id) == edit["media_ids"][0] and candidate.object_key == key


async def test_the_status_rules_answer_409(suggester):
    user, _, items = await planned(suggester)
    highlight = by_kind(items, "highlight")[0]
    collage = by_kind(items, "collage")[0]
    refused = await act(suggester, user, highlight["id"], "edit", expect=409)
    assert refused["detail"]["code"] == "action_not_applicable"
    await act(suggester, user, collage["id"], "dismiss")
    assert (await act(suggester, user, collage["id"], "share", expect=409))["detail"][
        "code"] == "suggestion_dismissed"
    await act(suggester, user, highlight["id"], "save")
    assert (await act(suggester, user, highlight["id"], "dismiss", expect=409))["detail"][
        "code"] == "already_accepted"
    bad = await suggester.client.post(f"/v1/suggestions/{highlight['id']}/actions",
                                      json={"action": "print"}, headers=user.auth)
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "invalid_request"


async def test_nsfw_edit_can_be_saved_but_not_shared(suggester):
    user = suggester.new_user()
    photo = await suggester.photo(user, seed=120, nsfw=0.9, exposure=-1.5)
    await suggester.classified(photo)
    items = await suggester.wait_for(user, lambda its: by_kind(its, "edit"), "an edit")
    edit = by_kind(items, "edit")[0]
    assert edit["shareable"] is False
    assert (await act(suggester, user, edit["id"], "share", expect=409))["detail"][
        "code"] == "not_shareable"
    assert (await act(suggester, user, edit["id"], "save"))["suggestion"]["status"] == "saved"


async def test_listing_filters_and_pages(suggester):
    user, _, items = await planned(suggester)
    edits = await suggester.suggestions(user, kind="edit", status="proposed")
    assert edits and {s["kind"] for s in edits} == {"edit"}
    seen, cursor = [], None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = (await suggester.client.get("/v1/suggestions", params=params,
                                           headers=user.auth)).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(s["id"] for s in items)
    one = await suggester.client.get(f"/v1/suggestions/{items[0]['id']}", headers=user.auth)
    assert one.status_code == 200
    assert set(one.json()) >= {"id", "kind", "media_ids", "status", "title", "created_at"}
    bad = await suggester.client.get("/v1/suggestions", params={"cursor": "x"},
                                     headers=user.auth)
    assert bad.status_code == 400 and bad.json()["detail"]["code"] == "invalid_cursor"


async def test_only_the_owner_sees_and_acts(suggester):
    owner, _, items = await planned(suggester, n=3)
    stranger = suggester.new_user()
    target = items[0]["id"]
    client = suggester.client
    for path in (f"/v1/suggestions/{target}", f"/v1/suggestions/{target}/preview",
                 f"/v1/suggestions/{target}/moments"):
        assert (await client.get(path)).status_code == 401
        other = await client.get(path, headers=stranger.auth)
        assert other.status_code == 404
        assert other.json()["detail"]["code"] == "suggestion_not_found"
        assert (await client.get(path, headers=owner.auth)).status_code == 200
    missing = await client.get(f"/v1/suggestions/{uuid.uuid4()}", headers=owner.auth)
    assert missing.status_code == 404
    assert (await act(suggester, stranger, target, "save", expect=404))["detail"][
        "code"] == "suggestion_not_found"
    assert (await client.post(f"/v1/suggestions/{target}/actions",
                              json={"action": "save"})).status_code == 401
    assert await suggester.suggestions(stranger) == []
    forged = AuthSettings(hs256_secret=SecretStr("not-the-secret-of-this-deployment-32b"))
    from gemroll_common.auth import issue_dev_token

    token = issue_dev_token(owner.account_id, forged)
    response = await client.get("/v1/suggestions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["detail"]["code"] == "invalid_token"


async def test_operational_routes(suggester):
    ready = await suggester.client.get("/readyz")
    assert ready.status_code == 200 and all(ready.json()["checks"].values())
    metrics = (await suggester.client.get("/metrics")).text
    for name in ("gemroll_suggester_suggestions_total", "gemroll_suggester_render_seconds",
                 "gemroll_suggester_open_events"):
        assert name in metrics
    spec = (await suggester.client.get("/openapi.json")).json()
    assert {"/v1/suggestions", "/v1/suggestions/{suggestion_id}",
            "/v1/suggestions/{suggestion_id}/preview",
            "/v1/suggestions/{suggestion_id}/recap", "/v1/suggestions/{suggestion_id}/moments",
            "/v1/suggestions/{suggestion_id}/moments/{media_id}",
            "/v1/suggestions/{suggestion_id}/actions"} <= set(spec["paths"])
