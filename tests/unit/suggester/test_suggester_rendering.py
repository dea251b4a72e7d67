"""Golden tests of the renderers: pixel statistics and dimensions, plus a picture check
(previews written to reports/test-previews/suggester/ for a human to look at)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from gemroll_contracts import Crop, EditRecipe
from gemroll_suggester.rendering import (
    IDENTITY,
    UnreadableImage,
    apply_recipe,
    auto_enhance,
    collage,
    decode,
    edit_preview,
    encode_jpeg,
    highlight_cover,
    layout,
    recipes,
)
from gemroll_testkit.photos import Scene, render
from PIL import Image, ImageDraw

PREVIEWS = Path(__file__).resolve().parents[3] / "reports" / "test-previews" / "suggester"


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64) / 255


def luma(image: Image.Image) -> np.ndarray:
    return pixels(image) @ np.array([0.2126, 0.7152, 0.0722])


def horizon_rows(image: Image.Image, columns: tuple[float, ...] = (0.1, 0.5, 0.9)) -> list[int]:
    """Row of the strongest vertical brightness step in a few columns (sky above sea)."""
    lum = luma(image)
    rows = []
    for fraction in columns:
        x = int(fraction * (image.width - 1))
        column = lum[:, max(0, x - 2):x + 3].mean(1)
        steps = np.abs(np.diff(np.convolve(column, np.ones(5) / 5, mode="same")))
        low, high = int(0.3 * len(steps)), int(0.8 * len(steps))  # below the sun
        rows.append(low + int(np.argmax(steps[low:high])))
    return rows


def neutral_board(width: int = 600, height: int = 400) -> Image.Image:
    """Colour patches whose average is neutral grey: what gray world assumes."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    colours = [(200, 60, 60), (60, 200, 60), (60, 60, 200), (200, 200, 60), (60, 200, 200),
               (200, 60, 200), (128, 128, 128), (180, 180, 180), (90, 90, 90)]
    for i, colour in enumerate(colours):
        x, y = (i % 3) * width // 3, (i // 3) * height // 3
        draw.rectangle((x, y, x + width // 3, y + height // 3), fill=colour)
    return image


def with_cast(image: Image.Image, gains: tuple[float, float, float]) -> Image.Image:
    lin = recipes.srgb_to_linear(pixels(image)) * np.asarray(gains)
    return Image.fromarray((recipes.linear_to_srgb(lin) * 255 + 0.5).astype(np.uint8))


# --- auto-enhance ------------------------------------------------------------------------------

def test_identity_recipe_returns_the_same_pixels():
    image = render(Scene(seed=1))
    out = apply_recipe(image, IDENTITY)
    assert out.size == image.size
    assert np.array_equal(np.asarray(out), np.asarray(image))


def test_underexposed_photo_is_brightened_without_clipping():
    image = render(Scene(seed=2, exposure_stops=-1.5))
    recipe = auto_enhance(image)
    assert recipe.exposure >= 0.6
    out = apply_recipe(image, recipe)
    before, after = luma(image), luma(out)
    assert before.mean() < 0.33
    assert 0.38 <= after.mean() <= 0.6
    assert (after >= 0.995).mean() < 0.02  # highlights roll off instead of clipping
    assert out.size == image.size


def test_overexposed_photo_is_darkened():
    image = render(Scene(seed=3, exposure_stops=1.2))
    recipe = auto_enhance(image)
    assert recipe.exposure < -0.2
    assert luma(apply_recipe(image, recipe)).mean() < luma(image).mean() - 0.05


def test_white_balance_removes_most_of_a_colour_cast():
    board = neutral_board()
    cast = with_cast(board, (0.8, 1.0, 1.3))
    recipe = auto_enhance(cast)
    r, g, b = recipe.white_balance
    assert b < 1 < r
    spread_before = np.ptp(pixels(cast).mean((0, 1)))
    spread_after = np.ptp(pixels(apply_recipe(cast, recipe)).mean((0, 1)))
    assert spread_after < 0.5 * spread_before
    neutral = auto_enhance(board)
    assert neutral.white_balance == (1.0, 1.0, 1.0)


def test_flat_photo_gets_more_contrast():
    image = render(Scene(seed=5, contrast=0.5))
    recipe = auto_enhance(image)
    assert recipe.contrast > 1.15
    assert luma(apply_recipe(image, recipe)).std() > 1.15 * luma(image).std()


def test_dull_colours_get_more_saturation():
    image = render(Scene(seed=1))
    grey = np.asarray(image, dtype=np.float64)
    mean = grey.mean(-1, keepdims=True)
    dull = Image.fromarray((mean + 0.3 * (grey - mean)).astype(np.uint8))
    recipe = auto_enhance(dull)
    assert recipe.saturation > 1.1


@pytest.mark.parametrize("tilt", [4.0, -3.0, 7.0])
def test_tilted_horizon_is_straightened(tilt):
    image = render(Scene(seed=6, tilt_degrees=tilt, subject=None, hills=0))
    before = horizon_rows(image)
    assert abs(before[0] - before[-1]) > 20  # really tilted
    recipe = auto_enhance(image)
    assert recipe.rotate_degrees == pytest.approx(-tilt, abs=0.6)
    out = apply_recipe(image, recipe)
    after = horizon_rows(out)
    assert max(after) - min(after) <= 4
    # the straightened photo keeps its aspect ratio and has no empty corners
    assert out.width / out.height == pytest.approx(image.width / image.height, rel=0.01)
    scale = recipes.straighten_scale(image.width, image.height, recipe.rotate_degrees)
    assert out.width == math.floor(image.width * scale)
    corners = pixels(out)[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners.sum(-1) > 0.05).all()


def test_level_horizon_is_left_alone():
    image = render(Scene(seed=11, subject=None))
    assert auto_enhance(image).rotate_degrees == 0


def test_off_centre_subject_on_a_plain_background_is_cropped_to_a_third():
    image = Image.new("RGB", (900, 600), (200, 205, 210))
    ImageDraw.Draw(image).ellipse((90, 380, 230, 520), fill=(180, 40, 40))
    recipe = auto_enhance(image)
    assert recipe.crop is not None
    crop = recipe.crop
    assert (crop.right - crop.left) == pytest.approx(0.8, abs=0.002)
    assert (crop.bottom - crop.top) == pytest.approx(0.8, abs=0.002)
    out = apply_recipe(image, recipe)
    assert out.size == (720, 480)
    red = (pixels(out)[..., 0] > 0.6) & (pixels(out)[..., 1] < 0.3)
    assert red.sum() > 0.95 * math.pi * 70**2 * 0.9  # the whole subject stays in the frame


def test_no_crop_when_the_photo_has_faces():
    image = Image.new("RGB", (900, 600), (200, 205, 210))
    ImageDraw.Draw(image).ellipse((90, 380, 230, 520), fill=(180, 40, 40))
    assert auto_enhance(image, face_count=2).crop is None


def test_recipe_is_reproducible_and_resolution_independent():
    big = render(Scene(seed=2, width=1600, height=1066, exposure_stops=-1))
    recipe = auto_enhance(big)
    assert auto_enhance(big) == recipe
    assert EditRecipe.model_validate_json(recipe.model_dump_json()) == recipe
    small = big.resize((400, 266), Image.Resampling.LANCZOS)
    full = apply_recipe(big, recipe).resize((400, 266), Image.Resampling.LANCZOS)
    assert np.abs(pixels(full) - pixels(apply_recipe(small, recipe))).mean() < 0.02


def test_crop_box_outside_the_image_is_refused():
    with pytest.raises(ValueError):
        apply_recipe(Image.new("RGB", (10, 10)), IDENTITY.model_copy(
            update={"crop": Crop(left=0.5, top=0.5, right=0.5, bottom=0.9)}))


def test_edit_preview_fits_the_preview_size():
    image = render(Scene(seed=2, width=1200, height=800, exposure_stops=-1))
    out = edit_preview(image, auto_enhance(image), max_side=320)
    assert max(out.size) == 320


# --- decoding ------------------------------------------------------------------------------------

def test_decode_applies_exif_orientation_and_reduces_jpegs():
    image = render(Scene(seed=1, width=800, height=400))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    decoded = decode(out.getvalue())
    assert decoded.size == (400, 800)
    assert max(decode(out.getvalue(), max_side=200).size) == 200


def test_decode_refuses_what_is_not_an_image():
    with pytest.raises(UnreadableImage):
        decode(b"not an image")


# --- layouts ---------------------------------------------------------------------------

ASPECT_SETS = [
    [1.5, 0.75],
    [1.5, 1.5, 1.5],
    [0.75, 1.33, 1.0, 1.78],
    [1.5, 0.67, 0.67, 1.5, 1.0],
    [3.0, 0.75, 1.5, 1.33, 0.56, 1.0],
    [1.33] * 7,
    [0.75, 1.5, 1.5, 0.75, 1.0, 1.78, 0.56, 1.33],
    [1.0, 1.5, 0.67, 1.33, 0.75, 1.78, 0.56, 2.0, 1.2],
]


@pytest.mark.parametrize("aspects", ASPECT_SETS, ids=lambda a: f"{len(a)}-photos")
def test_justified_layout_never_distorts_and_fills_rows(aspects):
    width, gap = 1600, 8
    plan = layout.justified(aspects, width=width, gap=gap)
    assert sorted(t.index for t in plan.tiles) == list(range(len(aspects)))
    assert [t.index for t in plan.tiles] == list(range(len(aspects)))  # order kept
    for tile in plan.tiles:
        assert tile.width / tile.height == pytest.approx(aspects[tile.index], rel=0.02)
        assert tile.x >= gap and tile.y >= gap
        assert tile.x + tile.width <= width - gap and tile.y + tile.height <= plan.height - gap
    rows: dict[int, list[layout.Tile]] = {}
    for tile in plan.tiles:
        rows.setdefault(tile.y, []).append(tile)
    for row in rows.values():
        row.sort(key=lambda t: t.x)
        assert row[0].x == gap and row[-1].x + row[-1].width == width - gap
        assert len({t.height for t in row}) == 1
        for a, b in zip(row, row[1:], strict=False):
            assert b.x - (a.x + a.width) == gap  # no overlaps, even gaps
    assert 0.3 <= plan.height / width <= 1.6


def test_linear_partition_balances_rows():
    assert layout.linear_partition([1, 1, 1, 1], 2) == [[0, 1], [2, 3]]
    assert layout.linear_partition([3, 1, 1, 1], 2) == [[0], [1, 2, 3]]
    with pytest.raises(ValueError):
        layout.linear_partition([1, 1], 3)


def solid(colour: tuple[int, int, int], width: int, height: int) -> Image.Image:
    return Image.new("RGB", (width, height), colour)


def test_collage_pixels_show_each_photo_in_its_tile():
    colours = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (230, 200, 40)]
    sizes = [(600, 400), (300, 400), (400, 400), (640, 360)]
    images = [solid(c, w, h) for c, (w, h) in zip(colours, sizes, strict=True)]
    out = collage(images, width=800)
    plan = layout.justified([w / h for w, h in sizes], width=800, gap=max(4, 800 // 200))
    assert out.size == (800, plan.height)
    arr = np.asarray(out, dtype=np.int64)
    for tile in plan.tiles:
        region = arr[tile.y:tile.y + tile.height, tile.x:tile.x + tile.width]
        assert np.abs(region.mean((0, 1)) - colours[tile.index]).max() < 2
    assert tuple(arr[0, 0]) == (246, 245, 242)  # the margin is background


def test_collage_keeps_faces_in_frame():
    """A 'face' in the corner of a photo survives the collage crop (at most a pixel or two)."""
    face = solid((90, 90, 90), 400, 300)
    ImageDraw.Draw(face).ellipse((370, 270, 399, 299), fill=(255, 210, 170))
    out = collage([face, solid((20, 20, 20), 300, 300)], width=700)
    skin = (np.abs(np.asarray(out, dtype=np.int64) - (255, 210, 170)).sum(-1) < 40).sum()
    assert skin > 0.9 * math.pi * 15**2 * (out.width / 700) ** 2 * 0.5


def test_collage_takes_two_to_nine_photos():
    with pytest.raises(ValueError):
        collage([solid((0, 0, 0), 10, 10)])
    with pytest.raises(ValueError):
        collage([solid((0, 0, 0), 10, 10)] * 10)


def test_highlight_cover_puts_the_best_photo_on_top():
    hero = solid((250, 20, 20), 600, 400)
    rest = [solid((20, 20, 250), 400, 400), solid((20, 250, 20), 600, 400)]
    out = highlight_cover([hero, *rest], width=600)
    arr = np.asarray(out, dtype=np.int64)
    hero_tile = layout.cover([1.5, 1.0, 1.5], width=600, gap=3).tiles[0]
    top = arr[hero_tile.y + 5:hero_tile.y + hero_tile.height - 5,
              hero_tile.x + 5:hero_tile.x + hero_tile.width - 5]
    assert np.abs(top.mean((0, 1)) - (250, 20, 20)).max() < 2
    assert out.width == 600 and out.height > hero_tile.height


# --- picture check ------------------------------------------------------------------------------

def test_write_previews_for_a_human_to_look_at():
    PREVIEWS.mkdir(parents=True, exist_ok=True)
    scenes = [Scene(seed=2, exposure_stops=-1.3), Scene(seed=6, tilt_degrees=4),
              Scene(seed=4, cast=(0.85, 1.0, 1.25), width=640, height=960),
              Scene(seed=5, contrast=0.6), Scene(seed=9, width=960, height=960)]
    photos = [render(s) for s in scenes]
    for i, photo in enumerate(photos[:3]):
        recipe = auto_enhance(photo)
        side_by_side = collage([photo, apply_recipe(photo, recipe)], width=1200)
        (PREVIEWS / f"edit-{i}.jpg").write_bytes(encode_jpeg(side_by_side))
        (PREVIEWS / f"edit-{i}.json").write_text(recipe.model_dump_json(indent=2))
    (PREVIEWS / "collage.jpg").write_bytes(encode_jpeg(collage(photos)))
    (PREVIEWS / "highlight.jpg").write_bytes(encode_jpeg(highlight_cover(photos)))
    for name in ("edit-0.jpg", "collage.jpg", "highlight.jpg"):
        written = Image.open(PREVIEWS / name)
        assert written.width >= 1000 and luma(written.convert("RGB")).std() > 0.05


@pytest.mark.parametrize(("source", "tile"), [
    ((240, 160), (137, 91)), ((160, 240), (300, 451)), ((333, 333), (100, 101)),
    ((4032, 3024), (799, 599)), ((1, 1), (7, 5)), ((1000, 10), (50, 1)),
])
def test_tiles_fill_exactly_whatever_the_rounding(source, tile):
    from gemroll_suggester.rendering.previews import fill_tile

    out = fill_tile(solid((10, 200, 30), *source), *tile)
    assert out.size == tile
    assert np.abs(np.asarray(out, dtype=np.int64) - (10, 200, 30)).max() <= 1
