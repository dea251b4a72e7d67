"""The scorer's rules: each verdict comes with the reason that produced it."""

from __future__ import annotations

from dataclasses import replace

from gemroll_classifier.domain.features import MediaFacts, ModelSignals, PixelStats
from gemroll_classifier.domain.scorer import (
    DuplicateDecision,
    assess,
    decide,
    unreadable,
)

CAMERA = MediaFacts(width=4032, height=3024, file_format="JPEG", camera_make="Apple",
                    camera_model="iPhone 15", has_capture_exif=True)
SCREEN = MediaFacts(width=1170, height=2532, file_format="PNG")
GOOD = PixelStats(brightness=0.45, dark_fraction=0.05, blown_fraction=0.01, contrast=0.22,
                  laplacian_var=900.0, noise_sigma=3.0, flat_fraction=0.001, edge_density=0.02,
                  colorfulness=45.0, palette_fraction=0.08, paper_fraction=0.03,
                  sharpest_tile_var=2500.0, directional_var=400.0, skin_fraction=0.1)
UI = replace(GOOD, flat_fraction=0.7, palette_fraction=0.8, colorfulness=10.0,
             paper_fraction=0.6, brightness=0.85)
PAPER = replace(GOOD, paper_fraction=0.7, colorfulness=5.0, edge_density=0.06,
                flat_fraction=0.05, brightness=0.8)
NO_LABELS = ModelSignals(labels=("valley",), label_probs=(0.6,), families={})
BEST = DuplicateDecision(group_id="g", is_best=True)


def test_sharp_well_exposed_camera_photo_is_a_gem():
    a = assess(CAMERA, GOOD, NO_LABELS)
    assert a.category == "photo" and not a.junk
    v = decide(a, BEST, nsfw=0.01)
    assert v.is_gem and v.gem_score >= 0.5
    assert "photo:camera_exif" in v.reasons and "gem:best_shot" in v.reasons


def test_phone_screenshot_is_recognised_with_reasons():
    a = assess(SCREEN, UI, NO_LABELS)
    assert a.category == "screenshot"
    assert {"screenshot:screen_resolution", "screenshot:no_camera_exif",
            "screenshot:flat_regions"} <= set(a.reasons)
    assert not decide(a, BEST, None).is_gem


def test_screen_label_alone_with_flat_regions_is_enough():
    facts = MediaFacts(width=1000, height=1400, file_format="JPEG")
    signals = ModelSignals(labels=("web site",), label_probs=(0.9,), families={"screen": 0.9})
    a = assess(facts, UI, signals)
    assert a.category == "screenshot" and "screenshot:screen_label" in a.reasons


def test_camera_photo_of_a_scene_is_not_a_screenshot_even_at_screen_size():
    facts = replace(CAMERA, width=1080, height=1920)
    assert assess(facts, GOOD, NO_LABELS).category == "photo"


def test_document_label_alone_is_enough():
    facts = replace(CAMERA, width=1512, height=2016)
    signals = ModelSignals(labels=("envelope",), label_probs=(0.6,), families={"document": 0.8})
    a = assess(facts, replace(GOOD, paper_fraction=0.3, colorfulness=30.0, edge_density=0.005),
               signals)
    assert a.category == "document" and a.reasons == ("document:document_label",)


def test_scanned_page_beats_weaker_screenshot_evidence():
    facts = MediaFacts(width=1240, height=1754, file_format="PNG")
    signals = ModelSignals(labels=("web site",), label_probs=(0.5,),
                           families={"screen": 0.5, "document": 0.45})
    scan = replace(PAPER, flat_fraction=0.33, palette_fraction=1.0, paper_fraction=0.95,
                   colorfulness=0.0, edge_density=0.03)
    a = assess(facts, scan, signals)
    assert a.category == "document" and "document:page_aspect" in a.reasons


def test_document_from_paper_and_text_edges():
    facts = MediaFacts(width=2000, height=2800, file_format="JPEG")
    signals = ModelSignals(labels=("menu",), label_probs=(0.5,), families={"document": 0.5})
    a = assess(facts, PAPER, signals)
    assert a.category == "document"
    assert "document:paper_background" in a.reasons
    assert not decide(a, BEST, None).is_gem


def test_defocused_photo_is_junk():
    soft = replace(GOOD, laplacian_var=12.0, sharpest_tile_var=30.0, directional_var=3.0)
    a = assess(CAMERA, soft, NO_LABELS)
    assert a.junk and "blurry:low_laplacian_variance" in a.reasons
    assert not decide(a, BEST, 0.0).is_gem


def test_motion_blur_is_caught_by_the_weakest_direction():
    streaked = replace(GOOD, laplacian_var=70.0, sharpest_tile_var=100.0, directional_var=4.0)
    a = assess(CAMERA, streaked, NO_LABELS)
    assert a.junk and "blurry:directional_blur" in a.reasons


def test_sharp_subject_on_soft_background_is_not_blurry():
    bokeh = replace(GOOD, laplacian_var=40.0, sharpest_tile_var=900.0, directional_var=60.0)
    assert not assess(CAMERA, bokeh, NO_LABELS).junk


def test_dark_photo_is_junk_and_not_called_blurry():
    a = assess(CAMERA, replace(GOOD, brightness=0.05, dark_fraction=0.95, laplacian_var=8.0,
                               sharpest_tile_var=10.0, directional_var=1.0), NO_LABELS)
    assert a.junk and "dark:low_mean_luminance" in a.reasons
    assert "blurry:low_laplacian_variance" not in a.reasons


def test_blown_out_photo_is_junk():
    a = assess(CAMERA, replace(GOOD, blown_fraction=0.6, brightness=0.9), NO_LABELS)
    assert a.junk and "overexposed:blown_highlights" in a.reasons


def test_burst_member_that_is_not_best_points_to_the_best():
    a = assess(CAMERA, GOOD, NO_LABELS)
    v = decide(a, DuplicateDecision(group_id="g", is_best=False, best_id="abc-1"), 0.0)
    assert not v.is_gem and not v.is_best_in_group
    assert "duplicate:burst_of:abc-1" in v.reasons


def test_better_later_shot_says_what_it_supersedes():
    a = assess(CAMERA, GOOD, NO_LABELS)
    v = decide(a, DuplicateDecision(group_id="g", is_best=True, supersedes="old-1"), 0.0)
    assert v.is_gem and "duplicate:supersedes:old-1" in v.reasons


def test_nsfw_blocks_a_gem():
    v = decide(assess(CAMERA, GOOD, NO_LABELS), BEST, nsfw=0.93)
    assert not v.is_gem and "nsfw:open_nsfw_score" in v.reasons and v.nsfw_score == 0.93


def test_unreadable_verdict():
    v = unreadable("decode_error")
    assert v.category == "other" and v.quality is None and not v.is_gem
    assert v.reasons == ("unreadable:decode_error",)


def test_scores_stay_in_range():
    for stats in (GOOD, UI, PAPER, replace(GOOD, laplacian_var=0.0, directional_var=0.0,
                                           noise_sigma=99.0)):
        a = assess(CAMERA, stats, NO_LABELS)
        assert 0.0 <= a.gem_score <= 1.0
        q = a.quality
        assert all(0.0 <= x <= 1.0 for x in (q.sharpness, q.exposure, q.noise, q.brightness))
