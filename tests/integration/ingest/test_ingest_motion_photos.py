"""Motion photos on the real stack: a JPEG whose camera appended a clip (Google's layout, and
Samsung's behind `MotionPhoto_Data`) stays a photo, and its clip is served metadata-free; a
plain JPEG has no clip."""

from __future__ import annotations

import pytest
from gemroll_common import video, video_privacy
from gemroll_contracts import MediaUploaded
from gemroll_testkit import clips, photos

from .test_ingest_video import event_of, uploaded

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("samsung", [False, True], ids=["google", "samsung"])
async def test_a_motion_photo_is_a_photo_whose_clip_is_served_without_metadata(
        ingest, tmp_path, samsung):
    account = await ingest.opted_in_user()
    media_id = await uploaded(ingest, account, clips.motion_photo(3, samsung=samsung))

    event, _ = await event_of(ingest, account, media_id)
    assert isinstance(event, MediaUploaded)
    assert (event.data.media_kind, event.data.content_type) == ("photo", "image/jpeg")
    headers = ingest.headers(account)
    item = (await ingest.client.get(f"/v1/media/{media_id}", headers=headers)).json()
    assert item["motion_clip"] is True and item["media_kind"] == "photo"

    response = await ingest.client.get(f"/v1/media/{media_id}/motion", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    movie = tmp_path / "motion.mp4"
    movie.write_bytes(response.content)
    assert video_privacy.find_metadata(movie) == []  # the clip's location stays behind
    assert video.probe(movie).duration_s == pytest.approx(1.5, abs=0.1)


async def test_a_plain_photo_has_no_clip(ingest):
    account = await ingest.opted_in_user()
    media_id = await uploaded(ingest, account, photos.phone_jpeg())
    headers = ingest.headers(account)
    item = (await ingest.client.get(f"/v1/media/{media_id}", headers=headers)).json()
    assert item["motion_clip"] is False
    response = await ingest.client.get(f"/v1/media/{media_id}/motion", headers=headers)
    assert response.status_code == 404
