"""Videos in the ingest use cases (in-memory ports): the poster is stored beside the clip and
goes with it (a failed upload, erasure, the janitor), previews come from it, and each kind
has its own size limit (multipart and presigned)."""

from __future__ import annotations

import pytest
from gemroll_common.sniff import sniff_content_type
from gemroll_contracts import ErasureReason, MediaErased, MediaErasedData, MediaUploaded, utcnow
from gemroll_ingest.adapters.multipart import receive_upload
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.media import ClientMetadata, ImageFacts, StagedFile
from gemroll_ingest.domain.video import VideoInfo

from .fakes import world
from .test_ingest_multipart import CONTENT_TYPE, body, chunked, part
from .test_ingest_usecases import JPEG, USER, consent
from .test_ingest_video_rules import ftyp

MP4 = ftyp(b"isom", b"iso2", b"avc1", b"mp41") + bytes(40)
POSTER = b"\xff\xd8\xff poster"


async def video_facts(staged: StagedFile) -> ImageFacts:
    content_type = sniff_content_type(staged.head) or "x"
    if not content_type.startswith("video/"):
        return ImageFacts(content_type=content_type, width=4, height=3)
    return ImageFacts(content_type=content_type, width=1920, height=1080,
                      video=VideoInfo(3.0, 30.0, "h264", True), poster=POSTER)


@pytest.fixture
async def w():
    w = world(max_upload_bytes=1000)
    w.inspector.inspect = video_facts  # type: ignore[method-assign]
    await w.ingest.consent.project(consent(USER, True, 1))
    return w


async def test_a_video_is_stored_with_its_poster_and_announced_as_a_video(w):
    result = await w.ingest.uploads.accept_direct(USER, w.stage(MP4), ClientMetadata())
    media_key = f"users/{USER}/media/{result.media_id}"
    poster_key = f"users/{USER}/posters/{result.media_id}.jpg"
    assert w.blobs.objects == {media_key: MP4, poster_key: POSTER}
    [message] = w.media.outbox
    event = message.event
    assert isinstance(event, MediaUploaded)
    assert event.data.media_kind == "video" and event.data.content_type == "video/mp4"
    assert event.data.video is not None and event.data.video.poster_key == poster_key
    preview = await w.ingest.listing.preview(USER, result.media_id, 320)
    assert preview == f"preview of /tmp/fake-{poster_key} at 320".encode()


async def test_a_failed_write_leaves_neither_clip_nor_poster(w):
    w.blobs.fail_put = errors.StorageUnavailable("down")
    with pytest.raises(errors.StorageUnavailable):
        await w.ingest.uploads.accept_direct(USER, w.stage(MP4), ClientMetadata())
    assert w.blobs.objects == {} and w.media.rows == {}
    assert any("/posters/" in key for key in w.blobs.deleted)


@pytest.mark.parametrize("reason", [ErasureReason.media_deleted, ErasureReason.account_erasure])
async def test_erasure_deletes_the_poster_with_the_clip(w, reason):
    media_id = (await w.ingest.uploads.accept_direct(USER, w.stage(MP4),
                                                     ClientMetadata())).media_id
    await w.ingest.deletion.delete(USER, media_id)
    await w.ingest.erasure.erase(MediaErased(producer="policy", data=MediaErasedData(
        user_key=USER, media_ids=[media_id], reason=reason, erased_at=utcnow())))
    assert w.blobs.objects == {}


async def test_the_janitor_removes_an_abandoned_videos_poster(w):
    media_id = (await w.ingest.uploads.accept_direct(USER, w.stage(MP4),
                                                     ClientMetadata())).media_id
    w.media.hold(media_id, expired=True)
    await w.janitor.sweep()
    assert w.blobs.objects == {}


async def test_each_kind_has_its_own_size_limit_on_the_presigned_path(w):
    created = await w.ingest.presigned.create(USER, ClientMetadata())
    key = f"users/{USER}/uploads/{created.upload_id}"
    w.blobs.objects[key] = MP4 + bytes(5000)  # over the photo limit, a video
    result = await w.ingest.presigned.complete(USER, created.upload_id)
    assert result.status == "accepted"
    created = await w.ingest.presigned.create(USER, ClientMetadata())
    w.blobs.objects[f"users/{USER}/uploads/{created.upload_id}"] = JPEG + bytes(5000)
    with pytest.raises(errors.TooLarge, match="file is larger than the limit of 1000"):
        await w.ingest.presigned.complete(USER, created.upload_id)


async def test_the_multipart_sink_takes_a_larger_video_but_stops_a_photo(tmp_path):
    limits = {"max_file_bytes": 1000, "max_video_bytes": 20_000, "max_metadata_bytes": 1024,
              "spool_dir": str(tmp_path)}
    async with receive_upload(chunked(body(part("file", MP4 + bytes(10_000), "v.mp4")), 97),
                              CONTENT_TYPE, **limits) as received:
        assert received.staged.size == len(MP4) + 10_000
    with pytest.raises(errors.TooLarge, match="file is larger than the limit of 1000"):
        async with receive_upload(chunked(body(part("file", JPEG + bytes(10_000), "p.jpg"))),
                                  CONTENT_TYPE, **limits):
            pass
    with pytest.raises(errors.TooLarge, match="video is larger than the limit of 20000"):
        async with receive_upload(chunked(body(part("file", MP4 + bytes(30_000), "v.mp4"))),
                                  CONTENT_TYPE, **limits):
            pass
    assert list(tmp_path.iterdir()) == []
