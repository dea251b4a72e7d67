"""Documents, HTML pages and machine checks of the sample roll (no Chromium, no apt)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gemroll_dev.samples import catalog, system
from gemroll_dev.samples.documents import A4, flat_scan, photograph, render_document
from gemroll_dev.samples.pages import PageContext, _highlight, render_page
from gemroll_dev.samples.plan import DocumentRecipe
from PIL import Image

WHEN = datetime(2024, 5, 18, 14, 32, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize("kind", catalog.DOCUMENT_KINDS)
def test_documents_render_deterministically(kind: str) -> None:
    first = render_document(kind, 11, WHEN, "lisbon")
    assert first.tobytes() == render_document(kind, 11, WHEN, "lisbon").tobytes()
    assert first.tobytes() != render_document(kind, 12, WHEN, "lisbon").tobytes()
    assert (first.width > first.height) == (kind == "boarding_pass")  # a card lies landscape


def test_scan_and_photograph_of_a_receipt() -> None:
    doc = render_document("receipt", 3, WHEN, "florida")
    scan = flat_scan(doc, DocumentRecipe("receipt", 3, False, None, -0.5, 0.7, 0.05, 1754, 1))
    assert scan.size == A4
    table = Image.new("RGB", (400, 300), (120, 90, 60))
    recipe = DocumentRecipe("receipt", 3, True, "wood_table", 7.0, 0.7, 0.06, 640, 1)
    shot = photograph(doc, table, recipe)
    assert shot.size == (480, 640)
    corner, centre = shot.getpixel((5, 5)), shot.getpixel((240, 320))
    assert sum(centre) > sum(corner)  # paper is lighter than the table
    assert photograph(doc, table, recipe).tobytes() == shot.tobytes()
    with pytest.raises(ValueError, match="unknown document"):
        render_document("poster", 1, WHEN, "lisbon")


def _ctx(kind: str, viewport: str = "iphone13pro", dark: bool = False) -> PageContext:
    return PageContext(kind, 42, catalog.VIEWPORT_BY_NAME[viewport], dark, WHEN,
                       lambda key: f"assets/{key}.jpg", "def f(x):\n    return x + 1  # one\n",
                       "file:///usr/share/debian-reference/ch02.en.html#s-x")


@pytest.mark.parametrize("kind", catalog.PAGE_KINDS + catalog.PHOTO_PAGE_KINDS)
def test_every_page_kind_renders(kind: str) -> None:
    html = render_page(_ctx(kind))
    assert html == render_page(_ctx(kind))
    assert html.startswith("<!doctype html>") and "class='status'" in html
    assert "2:32" in html  # the status bar shows the capture time
    assert "class='dark" in render_page(_ctx(kind, dark=True))


def test_pages_show_real_photos_and_docs() -> None:
    assert "assets/" in render_page(_ctx("feed"))
    assert "class='shown' src='assets/" in render_page(_ctx("viewer"))
    assert "<iframe class='doc' src='file:///usr/share/debian-reference" in render_page(
        _ctx("docs"))
    wide = render_page(_ctx("email", "macbook"))
    assert "class='wide'" in wide and "menubar" in wide


def test_code_highlighting_keeps_the_text() -> None:
    html = _highlight("def f(x):\n    return 'a'  # c\n")
    assert "<span class='kw'>def</span>" in html and "<span class='com'># c</span>" in html
    assert "<span class='str'>&#x27;a&#x27;</span>" in html


def test_packages_present_means_no_apt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    probe = tmp_path / "there"
    probe.touch()

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("apt must not run")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert system.ensure_debian_packages([("pkg", str(probe)), ("sh", "sh")]) == []


def test_missing_packages_without_root_say_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system.shutil, "which",
                        lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    with pytest.raises(system.SamplesError, match="apt-get install -y --no-install-recommends"):
        system.ensure_debian_packages([("not-a-package", "/nonexistent/file")])


def test_cache_root_can_be_moved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GEMROLL_SAMPLES_CACHE", str(tmp_path))
    assert system.cache_root() == tmp_path
    monkeypatch.delenv("GEMROLL_SAMPLES_CACHE")
    assert system.cache_root().parts[-2:] == (".cache", "samples")


def test_python_shipped_photos_are_found_without_download() -> None:
    for photo in catalog.PHOTOS:
        if photo.kind == "python":
            path = system.photo_path(photo)
            assert path.is_file(), path
            with Image.open(path) as image:
                assert image.size == photo.size
