"""The demo report: what it groups and says, per item and per suggestion, rendered to HTML."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html import unescape

from gemroll_dev.demo import pick_actions, training_of
from gemroll_dev.report import (
    DemoReport,
    Item,
    Suggestion,
    Training,
    reason_label,
    render,
    write_jpeg,
)
from PIL import Image

NOT = Training(False, "not admitted", "held: never shared or edited with AI")


def item(media_id: str, file: str, *, gem: bool, reasons: list[str], sample_gem: bool = True,
         training: Training = NOT, category: str = "photo") -> Item:
    classified = {"is_gem": gem, "gem_score": 0.9 if gem else 0.2, "reasons": reasons,
                  "category": category}
    return Item(media_id=media_id, file=file, image=f"images/{media_id}.jpg",
                sample_kind="good photo" if sample_gem else "blurry", sample_note=None,
                sample_gem=sample_gem, classified=classified, training=training,
                reason_labels=[reason_label(r, {"m1": file}) for r in reasons])


def sample_report() -> DemoReport:
    gem = item("m1", "IMG_1.JPG", gem=True, reasons=["photo:camera_exif", "gem:best_shot"],
               training=Training(True, "admitted", "admitted: shared by the user"))
    blurry = item("m2", "IMG_2.JPG", gem=False, sample_gem=False,
                  reasons=["photo:camera_exif", "blurry:low_laplacian_variance"])
    burst = item("m3", "IMG_3.JPG", gem=False, sample_gem=False, reasons=["photo:camera_exif",
                                                          "duplicate:burst_of:m1"])
    screen = item("m4", "IMG_4.PNG", gem=False, sample_gem=False, category="screenshot",
                  reasons=["screenshot:no_camera_exif"])
    mislabelled = item("m5", "IMG_5.JPG", gem=False, reasons=["dark:low_mean_luminance"])
    burst = Item(**{**burst.__dict__, "reason_labels": [
        reason_label(r, {"m1": "IMG_1.JPG"}) for r in burst.reasons]})
    edit = Suggestion("s1", "edit", "Enhanced <photo>", "edited", "2024-06-09T10:00:00Z",
                      "previews/s1.jpg", [gem], acted="edit",
                      recipe={"exposure": 0.3, "contrast": 1.1, "saturation": 1.0,
                              "rotate_degrees": 0.0, "crop": None})
    highlight = Suggestion("s2", "highlight", "Sunday in Berlin", "shared",
                           "2024-06-09T10:00:00Z", "previews/s2.jpg", [gem, burst],
                           acted="share")
    return DemoReport(user="demo-1", started_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                      items=[gem, blurry, burst, screen, mislabelled],
                      suggestions=[highlight, edit], timings={"upload": 1.5, "total": 9.0})


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_junk_is_grouped_by_the_first_reason_against_it():
    report = sample_report()
    assert [i.file for i in report.gems] == ["IMG_1.JPG"]
    assert {k: [i.file for i in v] for k, v in report.junk.items()} == {
        "blurry": ["IMG_2.JPG"], "dark": ["IMG_5.JPG"], "duplicate": ["IMG_3.JPG"],
        "screenshot": ["IMG_4.PNG"]}


def test_reason_labels_are_readable_and_name_files():
    assert reason_label("blurry:low_laplacian_variance") == "blurry · low laplacian variance"
    assert reason_label("duplicate:burst_of:m1", {"m1": "IMG_1.JPG"}) == (
        "duplicate · burst of IMG_1.JPG")
    assert reason_label("nsfw") == "nsfw"


def test_summary_counts_and_compares_with_the_sample_labels():
    lines = sample_report().summary_lines()
    assert lines[0] == "5 items uploaded and classified for demo-1"
    assert lines[1].startswith("1 gems; junk: ")
    assert "matched the sample's labels on 4 of 5 items" in lines[2]  # IMG_5 was a good photo
    assert lines[3] == "2 suggestions (1 edit, 1 highlight)"
    assert lines[4].startswith("1 items eligible for training")


def test_rendered_page_shows_every_part(tmp_path):
    path = render(sample_report(), tmp_path)
    html = path.read_text()
    page = text(html)
    gems, junk, suggestions, training = (page.index(h) for h in (
        "Gems", "Junk, grouped by reason", "Suggestions", "Training eligibility, per item"))
    assert gems < junk < suggestions < training
    assert "IMG_1.JPG" in page[gems:junk] and "0.90" in page[gems:junk]
    assert "duplicate · burst of IMG_1.JPG" in page[junk:suggestions]
    assert "before (original, unchanged)" in page and 'src="previews/s1.jpg"' in html
    assert "demo: share → shared" in page and "exposure +0.30 EV" in page
    assert "Enhanced <photo>" in page and "Enhanced <photo>" not in html  # escaped
    assert "admitted: shared by the user" in page[training:]
    assert 'class="chip sample off"' in html  # IMG_5: the classifier disagrees with its label
    assert "upload 1.5 s" in page


def test_training_eligibility_says_why():
    report = {"items": [
        {"media_id": "a", "status": "admitted", "basis": "shared", "source": "classifier"},
        {"media_id": "a", "status": "admitted", "basis": "edited_with_ai", "source": "suggester"},
        {"media_id": "b", "status": "retracted", "basis": "shared", "source": "classifier",
         "retraction_reason": "training_opt_out"},
    ]}
    suggested = {"c": ["s1"]}
    a = training_of("a", report, suggested, True)
    assert a.eligible and a.why == ("admitted: edited with AI by the user and shared by the "
                                    "user (its AI-edited copy too)")
    assert training_of("b", report, suggested, True) == Training(
        False, "retracted", "retracted: training opt out")
    assert "suggested, but never shared" in training_of("c", report, suggested, True).why
    assert "not a gem" in training_of("d", report, suggested, False).why


def test_the_demo_shares_the_biggest_highlight_and_edits_one_photo():
    def s(i: str, kind: str, n: int, shareable: bool = True, status: str = "proposed"):
        return {"id": i, "kind": kind, "media_ids": list(range(n)), "shareable": shareable,
                "status": status}

    chosen = pick_actions([s("c", "collage", 6), s("h1", "highlight", 3),
                           s("h2", "highlight", 5), s("h3", "highlight", 9, shareable=False),
                           s("e1", "edit", 1, status="dismissed"), s("e2", "edit", 1)])
    assert chosen == {"h2": "share", "e2": "edit"}
    assert pick_actions([s("c", "collage", 2)]) == {"c": "share"}


def test_thumbnails_are_upright_jpegs(tmp_path):
    source = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: displayed 90° clockwise
    Image.new("RGB", (800, 400), (200, 30, 30)).save(source, "JPEG", exif=exif)
    out = write_jpeg(source.getvalue(), tmp_path / "t.jpg", max_px=200)
    with Image.open(out) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (100, 200)
    rgba = tmp_path / "a.png"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(rgba)
    with Image.open(write_jpeg(rgba, tmp_path / "a.jpg")) as converted:
        assert converted.mode == "RGB"
