"""The demo report's clips: posters, verdicts, best moments and recap movies, and the demo's
helpers that fill them (a clip's view, its thumbnail source, a recap fetched with retries)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

from gemroll_cli.client import ApiError
from gemroll_dev.demo import _thumb_source
from gemroll_dev.demo_videos import clip_ids, fetch_recaps, video_view
from gemroll_dev.report import DemoReport, Item, Suggestion, Training, reason_label, render

NOT = Training(False, "not admitted", "held: never shared or edited with AI")


def verdict(duration: float, moment: tuple[float, float] | None) -> dict:
    return {"duration_s": duration, "frames_sampled": 6, "poster_time_s": 2.0,
            "best_moment": {"start_s": moment[0], "end_s": moment[1]} if moment else None,
            "poster_key": "users/u/posters/x.jpg"}


def clip(media_id: str, file: str, *, gem: bool, reasons: list[str], moment=(0.5, 5.5),
         sample_gem: bool | None = None) -> Item:
    classified = {"is_gem": gem, "gem_score": 0.88 if gem else 0.02, "reasons": reasons,
                  "category": "photo", "media_kind": "video", "video": verdict(6.0, moment)}
    return Item(media_id=media_id, file=file, image=f"images/{media_id}.jpg",
                sample_kind="steady clip" if gem else "shaky", sample_note=None,
                sample_gem=gem if sample_gem is None else sample_gem, classified=classified,
                training=NOT, reason_labels=[reason_label(r) for r in reasons],
                video=video_view(classified, None, f"posters/{media_id}.jpg"))


def photo(media_id: str) -> Item:
    classified = {"is_gem": True, "gem_score": 0.9, "reasons": ["photo:camera_exif"],
                  "category": "photo"}
    return Item(media_id=media_id, file=f"{media_id}.JPG", image=f"images/{media_id}.jpg",
                sample_kind="good photo", sample_note=None, sample_gem=True,
                classified=classified, training=NOT)


def report() -> DemoReport:
    pan = clip("c1", "PXL_20240706_115000110.mp4", gem=True,
               reasons=["video:steady", "gem:best_shot"])
    shaky = clip("c2", "IMG_8468.MOV", gem=False, reasons=["shaky:sharpness_varies"],
                 moment=None)
    missed = clip("c3", "IMG_8470.MOV", gem=True, sample_gem=False,
                  reasons=["video:steady", "gem:best_shot"])
    highlight = Suggestion("s1", "highlight", "Hiking in the Picos", "proposed",
                           "2024-07-06T10:00:00Z", "previews/s1.jpg", [photo("p1"), pan],
                           recap="recaps/s1.mp4")
    plain = Suggestion("s2", "collage", "Garden", "proposed", "2024-06-09T10:00:00Z",
                       "previews/s2.jpg", [photo("p1")])
    return DemoReport(user="demo-1", started_at=datetime(2026, 1, 2, tzinfo=UTC),
                      items=[photo("p1"), pan, shaky, missed], suggestions=[highlight, plain])


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_clips_are_gems_or_junk_by_their_reasons():
    r = report()
    assert [i.file for i in r.videos] == ["PXL_20240706_115000110.mp4", "IMG_8468.MOV",
                                          "IMG_8470.MOV"]
    assert r.junk == {"shaky": [r.items[2]]}  # `video:` says what it is, not why it is junk
    assert r.items[1].video.length == "0:06" and r.items[1].video.best_moment == (0.5, 5.5)
    assert r.summary_lines()[-1] == "3 of them clips: 2 gems; junk: 1 shaky; 1 recap movies"


def test_rendered_page_has_the_clips_and_plays_the_recap(tmp_path: Path):
    html = render(report(), tmp_path).read_text()
    page = text(html)
    junk, videos, suggestions = (page.index(h) for h in (
        "Junk, grouped by reason", "Videos", "Suggestions"))
    assert junk < videos < suggestions
    section = page[videos:suggestions]
    for shown in ("PXL_20240706_115000110.mp4", "gem 0.88", "video · steady", "6.0 s",
                  "best moment 0.5–5.5 s", "at 2.0 s · 6 key frames sampled",
                  "junk: shaky", "shaky · sharpness varies", "recap Hiking in the Picos"):
        assert shown in section, shown
    assert 'src="posters/c1.jpg"' in html and "▶ 0:06" in page
    assert 'class="chip sample off"' in html  # IMG_8470: labelled junk, judged a gem
    videos_tags = re.findall(r"<video [^>]*>", html)
    assert videos_tags == ['<video controls preload="metadata" src="recaps/s1.mp4" '
                           'poster="previews/s1.jpg">']
    assert 'src="previews/s2.jpg"' in html  # a collage keeps its still preview


def test_a_photo_has_no_video_view_and_a_clip_without_a_verdict_keeps_its_facts():
    assert video_view({"is_gem": True, "reasons": []}, None, None) is None
    classified = {"c": {"media_kind": "video"}, "p": {"media_kind": "photo"}, "q": {}}
    assert clip_ids(classified) == ["c"]


def test_thumbnails_come_from_posters_for_clips(tmp_path: Path):
    assert _thumb_source(tmp_path / "a.JPG", None) == tmp_path / "a.JPG"
    assert _thumb_source(tmp_path / "b.MOV", tmp_path / "p.jpg") == tmp_path / "p.jpg"
    assert _thumb_source(tmp_path / "b.mp4", None) is None  # grey placeholder


class FlakyRecaps:
    def __init__(self, failures: int, status: int = 0) -> None:
        self.failures, self.status, self.asked = failures, status, 0

    async def recap(self, suggestion_id: str) -> bytes:
        self.asked += 1
        if self.asked <= self.failures:
            raise ApiError("suggester", self.status, "unreachable", "slow first render")
        return b"\x00\x00\x00\x18ftypmp42"


def test_recaps_are_downloaded_next_to_the_report_and_retried(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("gemroll_dev.demo_videos.asyncio.sleep", _no_wait)
    suggestions = [{"id": "h1", "recap_url": "/v1/suggestions/h1/recap"},
                   {"id": "c1", "recap_url": None}]
    api = FlakyRecaps(failures=1)
    asyncio.run(fetch_recaps(api, suggestions, tmp_path))  # type: ignore[arg-type]
    assert api.asked == 2 and suggestions[0]["_recap"] == tmp_path / "recaps" / "h1.mp4"
    assert (tmp_path / "recaps" / "h1.mp4").read_bytes().startswith(b"\x00\x00\x00\x18ftyp")
    assert "_recap" not in suggestions[1]
    gone = [{"id": "h2", "recap_url": "/v1/suggestions/h2/recap"}]
    api = FlakyRecaps(failures=5, status=404)
    asyncio.run(fetch_recaps(api, gone, tmp_path))  # type: ignore[arg-type]
    assert api.asked == 1 and "_recap" not in gone[0]


async def _no_wait(_seconds: float) -> None:
    return None

