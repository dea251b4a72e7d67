"""The holdout roll's plan: disjoint from training, deterministic, labelled and sliced."""

from __future__ import annotations

from collections import Counter

import pytest
from gemroll_dev.samples.holdout import plan_holdout
from gemroll_dev.samples.holdout.drafts import frame_pixels
from gemroll_dev.samples.holdout.recipes import (
    PaperRecipe,
    PhotoRecipe,
    PlannedItem,
    ScreenPhotoRecipe,
    ScreenRecipe,
)
from gemroll_dev.samples.holdout.sources import (
    PHOTO_BY_KEY,
    PHOTOS_HOLDOUT,
    VIEWPORTS_HOLDOUT,
    check_disjoint,
)
from gemroll_dev.samples.manifest import Category, JunkReason, QualityLabel


@pytest.fixture(scope="module")
def plan() -> list[PlannedItem]:
    return plan_holdout(0)


def test_sources_share_nothing_with_training() -> None:
    assert check_disjoint() == []
    assert len({p.path for p in PHOTOS_HOLDOUT}) >= 40  # distinct real photos
    assert max(p.megapixels for p in PHOTOS_HOLDOUT) >= 12


def test_same_seed_same_plan_other_seed_other_plan(plan: list[PlannedItem]) -> None:
    assert plan_holdout(0) == plan
    other = plan_holdout(1)
    assert [i.recipe for i in other] != [i.recipe for i in plan]


def test_size_labels_and_names(plan: list[PlannedItem]) -> None:
    assert 300 <= len(plan) <= 450
    assert len({i.id for i in plan}) == len(plan)
    assert len({i.file_name.lower() for i in plan}) == len(plan)
    reasons = Counter(i.junk_reason for i in plan)
    assert reasons[None] >= 100  # gems
    for reason, least in ((JunkReason.screenshot, 40), (JunkReason.document, 25),
                          (JunkReason.blurry, 90), (JunkReason.dark, 25),
                          (JunkReason.duplicate, 20)):
        assert reasons[reason] >= least, reason
    for item in plan:  # nothing in a name gives the label away
        assert not any(w in item.file_name.lower() for w in ("blur", "dark", "junk", "gem"))


def test_every_slice_the_issue_names_is_there(plan: list[PlannedItem]) -> None:
    slices = Counter(s for i in plan for s in i.slices)
    for name in ("no_exif", "chat_copy", "bw", "night", "macro_bokeh", "fog", "photo_of_screen",
                 "receipt_on_table", "feed_screenshot", "burst", "blur_motion", "blur_shake",
                 "blur_defocus", "blur_2-5px", "blur_5-20px", "dark", "low_key", "avif",
                 "heic", "png16", "cmyk", "icc", "12mp"):
        assert slices[name] >= 3, name
    for orientation in range(1, 9):
        assert slices[f"heic_orientation_{orientation}"] >= 1


def test_blur_sizes_and_labels(plan: list[PlannedItem]) -> None:
    for item in plan:
        recipe = item.recipe
        if not isinstance(recipe, PhotoRecipe) or recipe.blur is None:
            continue
        px = recipe.blur.px
        if item.quality is QualityLabel.blurry:
            assert 2 <= px <= 20
            assert ("blur_2-5px" in item.slices) == (px < 5)
            assert f"blur_{recipe.blur.kind}" in item.slices
            frame = max(frame_pixels(recipe.frame))
            stored = px * recipe.delivered / frame if recipe.delivered else px
            assert ("blur_stored_under_2px" in item.slices) == (stored < 2)
            assert ("blur_stored_2px_up" in item.slices) == (stored >= 2)
        else:  # only burst neighbours are slightly shaken, below the junk size
            assert item.burst_id and px < 2 and not item.is_best_shot


def test_frames_are_never_upscaled(plan: list[PlannedItem]) -> None:
    for item in plan:
        recipe = item.recipe
        if isinstance(recipe, PhotoRecipe) and recipe.frame.source in PHOTO_BY_KEY:
            w, h = frame_pixels(recipe.frame)
            source = PHOTO_BY_KEY[recipe.frame.source]
            assert w <= source.size[0] and h <= source.size[1]
            assert recipe.delivered <= max(w, h)
            if recipe.delivered:  # chat apps: long side 1600 or 1280 (or smaller), no EXIF
                assert item.encoding.exif is None and item.encoding.quality <= 80


def test_chat_copies_and_no_exif_photos_stay_good_photos(plan: list[PlannedItem]) -> None:
    for item in plan:
        if "chat_copy" in item.slices or "no_exif" in item.slices:
            assert item.category is Category.photo
            assert item.encoding.exif is None
        if "chat_copy" in item.slices and item.variant == "chat_copy":
            assert item.expected_gem


def test_bursts_have_one_intended_best(plan: list[PlannedItem]) -> None:
    bursts: dict[str, list[PlannedItem]] = {}
    for item in plan:
        if item.burst_id:
            bursts.setdefault(item.burst_id, []).append(item)
    assert len(bursts) >= 8
    for frames in bursts.values():
        assert 3 <= len(frames) <= 6
        assert sum(f.is_best_shot for f in frames) == 1
        best = next(f for f in frames if f.is_best_shot)
        assert best.quality is QualityLabel.good and best.expected_gem
        assert isinstance(best.recipe, PhotoRecipe) and best.recipe.blur is None
        times = sorted(f.captured_at for f in frames)
        assert (times[-1] - times[0]).total_seconds() < 5


def test_screens_documents_and_photos_of_screens(plan: list[PlannedItem]) -> None:
    views = {v.name for v in VIEWPORTS_HOLDOUT}
    for item in plan:
        if isinstance(item.recipe, ScreenRecipe):
            assert item.category is Category.screenshot and item.recipe.viewport in views
        if isinstance(item.recipe, PaperRecipe):
            assert item.category is Category.document
        if isinstance(item.recipe, ScreenPhotoRecipe):  # photos (of a picture): gems
            assert item.category is Category.photo and item.expected_gem
    feeds = [i for i in plan if "feed_screenshot" in i.slices]
    assert all(isinstance(i.recipe, ScreenRecipe) and i.recipe.photos for i in feeds)


def test_single_photos_of_one_source_are_far_apart(plan: list[PlannedItem]) -> None:
    singles = sorted((i for i in plan if i.category is Category.photo and not i.burst_id),
                     key=lambda i: i.captured_at)
    for a, b in zip(singles, singles[1:], strict=False):
        assert (b.captured_at - a.captured_at).total_seconds() >= 360
