"""The sample roll's plan: labels, determinism, coverage of classes and formats."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from gemroll_dev.samples import catalog
from gemroll_dev.samples.bench import _bench_plan
from gemroll_dev.samples.build import _manifest_item, _Written
from gemroll_dev.samples.manifest import (
    Category,
    ImageFormat,
    JunkReason,
    Manifest,
    QualityLabel,
)
from gemroll_dev.samples.plan import (
    DocumentRecipe,
    PhotoRecipe,
    PlannedItem,
    ScreenRecipe,
    plan_camera_roll,
)


@pytest.fixture(scope="module")
def demo() -> list[PlannedItem]:
    return plan_camera_roll("demo", 0)


@pytest.fixture(scope="module")
def evaluation() -> list[PlannedItem]:
    return plan_camera_roll("eval", 0)


def test_same_seed_gives_the_same_plan_and_another_seed_a_different_one() -> None:
    assert plan_camera_roll("demo", 7) == plan_camera_roll("demo", 7)
    first, other = plan_camera_roll("demo", 7), plan_camera_roll("demo", 8)
    assert [i.recipe for i in first] != [i.recipe for i in other]


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown size"):
        plan_camera_roll("huge", 0)  # type: ignore[arg-type]


def test_sizes(demo: list[PlannedItem], evaluation: list[PlannedItem]) -> None:
    assert 40 <= len(demo) <= 60
    assert 300 <= len(evaluation) <= 500


def test_eval_has_enough_of_every_class(evaluation: list[PlannedItem]) -> None:
    reasons = Counter(i.junk_reason for i in evaluation)
    assert reasons[None] >= 100  # gems
    for reason in (JunkReason.screenshot, JunkReason.document, JunkReason.blurry,
                   JunkReason.dark, JunkReason.duplicate):
        assert reasons[reason] >= 40, reason


@pytest.mark.parametrize("size", ["demo", "eval"])
def test_every_burst_has_one_best_sharp_frame_within_seconds(size: str) -> None:
    bursts: dict[str, list[PlannedItem]] = defaultdict(list)
    for item in plan_camera_roll(size, 3):  # type: ignore[arg-type]
        if item.burst_id:
            bursts[item.burst_id].append(item)
    assert bursts
    for frames in bursts.values():
        assert 3 <= len(frames) <= 6
        best = [f for f in frames if f.is_best_shot]
        assert len(best) == 1
        assert best[0].quality is QualityLabel.good and best[0].expected_gem
        assert best[0].recipe.effect.kind == "none"
        assert {f.recipe.source for f in frames} == {best[0].recipe.source}
        times = sorted(f.captured_at for f in frames)
        assert (times[-1] - times[0]).total_seconds() < 5
        assert any(f.quality is QualityLabel.blurry for f in frames)
        assert not any(f.expected_gem for f in frames if f is not best[0])


def test_labels_follow_the_gem_rule(evaluation: list[PlannedItem]) -> None:
    for item in evaluation:
        gem = (item.category is Category.photo and item.quality is QualityLabel.good
               and item.is_best_shot)
        assert item.expected_gem == gem
        assert (item.junk_reason is None) == gem
        if item.burst_id is None:
            assert item.is_best_shot


def test_recipes_match_categories(evaluation: list[PlannedItem]) -> None:
    kinds = {Category.photo: PhotoRecipe, Category.screenshot: ScreenRecipe,
             Category.document: DocumentRecipe}
    for item in evaluation:
        assert isinstance(item.recipe, kinds[item.category])
        if item.quality is QualityLabel.dark:
            assert item.recipe.effect.kind == "dark" and item.recipe.effect.amount < 0.12
        if item.quality is QualityLabel.blurry:
            assert item.recipe.effect.kind in ("gaussian_blur", "motion_blur")


@pytest.mark.parametrize("size", ["demo", "eval"])
def test_formats_cover_what_phones_produce(size: str) -> None:
    items = plan_camera_roll(size, 0)  # type: ignore[arg-type]
    encodings = Counter((i.encoding.format, i.encoding.pixel_mode, i.encoding.orientation)
                        for i in items if i.category is Category.photo)
    assert encodings[(ImageFormat.heic, "RGB", 1)] >= 2
    assert encodings[(ImageFormat.webp, "RGB", 1)] >= 1
    assert encodings[(ImageFormat.jpeg, "RGB", 6)] >= 2
    assert encodings[(ImageFormat.jpeg, "L", 1)] >= 1
    assert encodings[(ImageFormat.jpeg, "CMYK", 1)] >= 1
    assert encodings[(ImageFormat.png, "RGB16", 1)] >= 1
    specials = [i for i in items if i.encoding.pixel_mode != "RGB" or i.encoding.orientation != 1
                or i.encoding.format in (ImageFormat.heic, ImageFormat.webp)]
    assert all(i.encoding.orientation == 1 for i in specials
               if i.encoding.format is not ImageFormat.jpeg)


def test_screenshots_have_no_camera_exif_and_photos_do(evaluation: list[PlannedItem]) -> None:
    for item in evaluation:
        if item.category is Category.screenshot:
            assert item.encoding.exif is None
            assert item.encoding.format in (ImageFormat.png, ImageFormat.jpeg)
        elif item.category is Category.photo and item.device != "messenger":
            assert item.encoding.exif is not None and item.encoding.exif.exposure_s


def test_screenshots_use_real_device_resolutions(evaluation: list[PlannedItem]) -> None:
    sizes = {catalog.VIEWPORT_BY_NAME[i.recipe.viewport].pixels for i in evaluation
             if isinstance(i.recipe, ScreenRecipe)}
    assert {(1170, 2532), (1080, 2400), (1284, 2778)} <= sizes
    assert any(w > h for w, h in sizes)  # some desktop ones
    pages = Counter(i.recipe.page for i in evaluation if isinstance(i.recipe, ScreenRecipe))
    assert set(pages) == set(catalog.PAGE_KINDS)


def test_names_ids_and_times(demo: list[PlannedItem]) -> None:
    names = [i.file_name.lower() for i in demo]
    assert len(set(names)) == len(names)
    assert [i.id for i in demo] == [f"s{n:04d}" for n in range(1, len(demo) + 1)]
    times = [i.captured_at for i in demo]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    assert {i.event for i in demo} <= set(catalog.EVENT_BY_KEY)
    assert len({i.event for i in demo if i.category is Category.photo}) >= 4


def test_good_crops_keep_the_subject_and_differ(evaluation: list[PlannedItem]) -> None:
    seen: dict[str, list] = defaultdict(list)
    for item in evaluation:
        recipe = item.recipe
        if not isinstance(recipe, PhotoRecipe):
            continue
        crop = recipe.crop
        assert 0 <= crop.x0 < crop.x1 <= 1 and 0 <= crop.y0 < crop.y1 <= 1
        if item.variant == "good":
            x0, y0, x1, y1 = catalog.PHOTO_BY_KEY[recipe.source].subject
            assert crop.x0 <= (x0 + x1) / 2 <= crop.x1 and crop.y0 <= (y0 + y1) / 2 <= crop.y1
            seen[recipe.source].append(crop)
    for crops in seen.values():
        assert len(set(crops)) == len(crops)


def test_demo_gems_come_from_distinct_real_photos(demo: list[PlannedItem]) -> None:
    sources = [i.recipe.source for i in demo if i.expected_gem]
    assert len(sources) == len(set(sources)) >= 15


def test_bench_plan_is_deterministic_and_distinct() -> None:
    plan = _bench_plan(40, 1)
    assert plan == _bench_plan(40, 1)
    assert len({(key, crop) for _, key, crop, *_ in plan}) == 40
    assert all(catalog.PHOTO_BY_KEY[key].megapixels >= 2 for _, key, *_ in plan)


def test_manifest_validates_labels(demo: list[PlannedItem]) -> None:
    items = [_manifest_item(i, _Written(i.file_name, (640, 480), 100, "0" * 64)) for i in demo]
    manifest = Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=items)
    assert Manifest.model_validate_json(manifest.model_dump_json()) == manifest
    assert manifest.counts()["gems"] == sum(i.expected_gem for i in demo)
    rotated = next(i for i in items if i.orientation == 6)
    assert (rotated.width, rotated.height) == (480, 640)
    burst = next(i for i in items if i.burst_id and not i.is_best_shot)
    broken = [i.model_copy(update={"is_best_shot": True, "expected_gem": burst.quality == "good",
                                   "junk_reason": None}) if i is burst else i for i in items]
    with pytest.raises(ValueError, match="exactly one best"):
        Manifest(size="demo", seed=0, events=list(catalog.EVENTS), items=broken)
