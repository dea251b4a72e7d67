"""Share links on the real stack, tried as a friend with the link and as an adversary
without it: the link opens without a token and shows exactly what was shared, without
metadata; nothing else of the user is reachable from it; unshare, opt-out and guessing all
answer 404; the page sends no referrer and is not cached."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from gemroll_common.media_privacy import find_metadata
from gemroll_testkit import eventually, photos

from .test_suggester_api import act, by_kind, planned

pytestmark = pytest.mark.integration

GPS = (38.7223, -9.1393)


async def with_exif_originals(suggester, shots) -> None:
    """Replace the originals with phone JPEGs carrying GPS, serial and owner EXIF."""
    for shot in shots:
        data = photos.jpeg(size=(640, 427), exif=photos.exif(
            make="Phone", model="X", gps=GPS, serial="SN-123456", owner="Ada Lovelace"))
        assert find_metadata(data)
        await suggester.store.put_bytes(shot.data.object_key, data, "image/jpeg")


async def test_a_shared_highlight_opens_for_anyone_with_the_link_and_closes_on_unshare(
        suggester) -> None:
    user, shots, items = await planned(suggester)
    await suggester.consent(user, camera_roll=True, seq=1)
    await with_exif_originals(suggester, shots)
    highlight = by_kind(items, "highlight")[0]
    others = [s for s in items if s["id"] != highlight["id"]]

    shared = await act(suggester, user, highlight["id"], "share")
    url = shared["share_url"]
    token = url.rsplit("/", 1)[1]
    assert url.startswith("/s/") and len(token) >= 32
    again = await act(suggester, user, highlight["id"], "share")
    assert again["share_url"] == url  # one live link per suggestion

    async def opened():
        page = await suggester.client.get(url)  # no token: the link is the key
        return page if page.status_code == 200 else None

    page = await eventually(opened, "the link opening", timeout_s=30)
    assert highlight["title"] in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    assert "script-src" not in page.headers["content-security-policy"]
    assert "<script" not in page.text.lower()
    count = len(highlight["media_ids"])
    for i in range(count + 1):  # the cover, then each photo of the highlight
        image = await suggester.client.get(f"{url}/image/{i}")
        assert image.status_code == 200, (i, image.text)
        assert image.headers["content-type"].startswith("image/")
        assert find_metadata(image.content) == [], f"image {i} carries metadata"
        assert b"SN-123456" not in image.content and b"Lovelace" not in image.content
    assert (await suggester.client.get(f"{url}/image/{count + 1}")).status_code == 404
    assert (await suggester.client.get(f"{url}/image/-1")).status_code == 404

    # nothing else is reachable: not the user's other suggestions, not their API
    for path in ("/v1/suggestions", f"/v1/suggestions/{others[0]['id']}",
                 f"/v1/suggestions/{highlight['id']}/preview"):
        assert (await suggester.client.get(path, headers={"Cookie": f"t={token}"})
                ).status_code == 401
    guessed = f"/s/{secrets.token_urlsafe(24)}"
    assert (await suggester.client.get(guessed)).status_code == 404

    listed = (await suggester.client.get("/v1/share-links", headers=user.auth)).json()["items"]
    assert [(x["suggestion_id"], x["url"]) for x in listed] == [(highlight["id"], url)]
    stranger = suggester.new_user()
    assert (await suggester.client.get("/v1/share-links", headers=stranger.auth)
            ).json()["items"] == []
    assert (await suggester.client.post(f"/v1/suggestions/{highlight['id']}/actions",
                                        json={"action": "share"}, headers=stranger.auth)
            ).status_code == 404

    await act(suggester, user, highlight["id"], "unshare")
    for path in (url, f"{url}/image/0", f"{url}/image/1"):  # at once, not eventually
        gone = await suggester.client.get(path)
        assert gone.status_code == 404 and gone.headers["referrer-policy"] == "no-referrer"
    assert (await suggester.client.get("/v1/share-links", headers=user.auth)
            ).json()["items"] == []

    # sharing again makes a new link; the old one stays closed
    fresh = (await act(suggester, user, highlight["id"], "share"))["share_url"]
    assert fresh != url and (await suggester.client.get(url)).status_code == 404
    assert (await suggester.client.get(fresh)).status_code == 200


async def test_an_opt_out_closes_every_link_for_good(suggester) -> None:
    user, _, items = await planned(suggester)
    await suggester.consent(user, camera_roll=True, seq=1)
    edit, collage = by_kind(items, "edit")[0], by_kind(items, "collage")[0]
    urls = [(await act(suggester, user, s["id"], "share"))["share_url"] for s in (edit, collage)]

    async def all_open():
        return all([(await suggester.client.get(u)).status_code == 200 for u in urls])

    await eventually(all_open, "both links opening", timeout_s=30)
    edited = await suggester.client.get(f"{urls[0]}/image/0")  # the AI edit itself
    assert edited.status_code == 200 and find_metadata(edited.content) == []
    await suggester.consent(user, camera_roll=False, seq=2)

    async def all_closed():
        return all([(await suggester.client.get(u)).status_code == 404 for u in urls])

    await eventually(all_closed, "both links closed", timeout_s=30)
    await suggester.consent(user, camera_roll=True, seq=3)
    await asyncio.sleep(1.0)  # the opt-in is projected; the links must stay closed
    assert [(await suggester.client.get(u)).status_code for u in urls] == [404, 404]
