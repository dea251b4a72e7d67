"""The user's own listing shows the classifier's verdicts (real Kafka, PostgreSQL, S3): filters
by gem, junk and reason, counts for the filter chips, the newest verdict winning over a stale
one delivered later, previews with no metadata at all, and erasure taking verdicts along."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from gemroll_common.media_privacy import find_metadata
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    MEDIA_ERASED,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
    Service,
    utcnow,
)
from gemroll_testkit import eventually, photos
from PIL import Image

from .test_ingest_consumers import erased, publish_as

pytestmark = pytest.mark.integration


def verdict(key: str, media_id: str, bucket: str, *, gem: bool, reasons: list[str],
            age_s: float = 0) -> MediaClassified:
    return MediaClassified(
        producer="classifier", occurred_at=utcnow() - timedelta(seconds=age_s),
        data=MediaClassifiedData(
            media_id=uuid.UUID(media_id), user_key=key, bucket=bucket,
            object_key=f"users/{key}/media/{media_id}", width=96, height=64,
            category=Category.photo, gem_score=0.9 if gem else 0.2, is_gem=gem,
            reasons=reasons, model=ModelInfo(name="test", version="1")))


async def listed(ingest, account: str, **query) -> list[str]:
    ids, cursor = [], None
    while True:
        params = {**query, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await ingest.client.get("/v1/media", params=params,
                                        headers=ingest.headers(account))).json()
        ids += [item["media_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


async def test_listing_filters_by_verdict_and_reason_and_the_newest_verdict_wins(ingest):
    account = await ingest.opted_in_user()
    key = ingest.user_key(account)
    sharp, blurry, dark, waiting = [
        (await ingest.upload(account, photos.jpeg(photos.hills(i)))).json()["media_id"]
        for i in range(4)]
    bucket = ingest.store.bucket
    newest = {
        sharp: verdict(key, sharp, bucket, gem=True, reasons=["gem:sharp_and_well_exposed"]),
        blurry: verdict(key, blurry, bucket, gem=False,
                        reasons=["blurry:low_laplacian_variance", "gem:low_score"]),
        dark: verdict(key, dark, bucket, gem=False, reasons=["dark:low_mean_luminance"]),
    }
    for event in newest.values():
        await publish_as(ingest, Service.classifier, MEDIA_CLASSIFIED, event, key)
    # A verdict made earlier but delivered later (another partition's replay) changes nothing.
    stale = verdict(key, blurry, bucket, gem=True, reasons=["gem:best_shot"], age_s=60)
    await publish_as(ingest, Service.classifier, MEDIA_CLASSIFIED, stale, key)
    await ingest.consumed(MEDIA_CLASSIFIED, "ingest.pipeline-status")

    async def all_classified():
        facets = (await ingest.client.get("/v1/media/facets",
                                          headers=ingest.headers(account))).json()
        return facets if facets["unclassified"] == 1 else None

    facets = await eventually(all_classified)
    assert facets == {"total": 4, "gems": 1, "junk": 2, "unclassified": 1,
                      "junk_signals": {"blurry": 1, "dark": 1}}
    assert set(await listed(ingest, account)) == {sharp, blurry, dark, waiting}
    assert await listed(ingest, account, verdict="gem") == [sharp]
    assert set(await listed(ingest, account, verdict="junk")) == {blurry, dark}
    assert await listed(ingest, account, verdict="junk", reason="blurry") == [blurry]
    assert await listed(ingest, account, verdict="unclassified") == [waiting]
    item = (await ingest.client.get(f"/v1/media/{blurry}",
                                    headers=ingest.headers(account))).json()
    assert item["classification"]["is_gem"] is False
    assert item["classification"]["signals"] == ["blurry", "gem"]
    assert item["pipeline"]["stage"] == "classified"

    # Nobody else sees any of it; nonsense filters are refused with a reason.
    stranger = await ingest.opted_in_user()
    assert (await ingest.client.get("/v1/media/facets", headers=ingest.headers(stranger))
            ).json()["total"] == 0
    assert await listed(ingest, stranger, verdict="junk", reason="blurry") == []
    for bad in ({"verdict": "meh"}, {"reason": "blurry' OR 1=1 --"}):
        answer = await ingest.client.get("/v1/media", params=bad,
                                         headers=ingest.headers(account))
        assert answer.status_code in (400, 422), answer.text

    # Erasure takes the verdict with the rest of the row.
    await publish_as(ingest, Service.policy, MEDIA_ERASED, erased(key, [blurry]), key)

    async def tombstoned():
        rows = await ingest.sql("SELECT * FROM media WHERE media_id = $1", uuid.UUID(blurry))
        return rows[0] if rows and rows[0]["state"] == "erased" else None

    row = await eventually(tombstoned)
    assert all(row[c] is None for c in ("category", "is_gem", "gem_score", "reasons",
                                        "verdict_at"))


async def test_a_preview_carries_nothing_but_pixels_and_only_for_its_owner(ingest):
    account = await ingest.opted_in_user()
    original = photos.phone_jpeg(photos.hills(5), size=(1200, 900), orientation=6)
    media_id = (await ingest.upload(account, original)).json()["media_id"]

    answer = await ingest.client.get(f"/v1/media/{media_id}/preview", params={"size": 200},
                                     headers=ingest.headers(account))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    assert "private" in answer.headers["cache-control"]
    assert find_metadata(answer.content) == []
    for secret in (photos.PHONE_SERIAL, photos.PHONE_OWNER, "Paris", photos.PHONE_MAKE):
        assert secret.encode() not in answer.content
    with Image.open(io.BytesIO(answer.content)) as small:
        assert small.size == (150, 200)  # turned upright: a portrait

    stranger = await ingest.opted_in_user()
    assert (await ingest.client.get(f"/v1/media/{media_id}/preview",
                                    headers=ingest.headers(stranger))).status_code == 404
    assert (await ingest.client.get(f"/v1/media/{media_id}/preview", params={"size": 5000},
                                    headers=ingest.headers(account))).status_code == 422
    await ingest.client.delete(f"/v1/media/{media_id}", headers=ingest.headers(account))
    assert (await ingest.client.get(f"/v1/media/{media_id}/preview",
                                    headers=ingest.headers(account))).status_code == 404
