"""Crops never cut a face: the framing rule, the edit recipe's crop and straightening, and
collage tiles."""

from __future__ import annotations

import dataclasses
import math
import uuid

import numpy as np
import pytest
from gemroll_contracts import Category, FaceBox, MediaClassified, MediaClassifiedData, ModelInfo
from gemroll_suggester.domain import media_item
from gemroll_suggester.domain.framing import (
    FACE_MARGIN,
    contains,
    cuts_a_face,
    face_window,
    in_window,
    largest_window,
    rotation_keeps_faces,
)
from gemroll_suggester.rendering import apply_recipe, auto_enhance, collage, recipes
from gemroll_suggester.rendering.previews import fill_tile
from gemroll_testkit.photos import Scene, render
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

SKIN = (255, 205, 170)


def _aspect(window: tuple[float, float, float, float]) -> float:
    return (window[2] - window[0]) / (window[3] - window[1])


def _inside_image(window, width, height) -> bool:
    return (window[0] >= -1e-6 and window[1] >= -1e-6 and window[2] <= width + 1e-6
            and window[3] <= height + 1e-6)


def test_without_faces_the_window_is_the_largest_centred_one():
    assert face_window(400, 300, 1.0) == (50.0, 0.0, 350.0, 300.0)
    assert face_window(400, 300, 2.0) == (0.0, 50.0, 400.0, 250.0)
    assert largest_window(400, 300, 4 / 3) == (400, 300)
    with pytest.raises(ValueError):
        largest_window(400, 300, 0)


def test_a_face_at_the_edge_is_taken_in_with_its_margin():
    face = (0.02, 0.3, 0.14, 0.5)  # at the left edge of a 400 x 300 photo
    window = face_window(400, 300, 1.0, [face])
    margin = (face[2] - face[0]) * FACE_MARGIN
    assert window[0] == pytest.approx((face[0] - margin) * 400)  # moved just enough
    assert _aspect(window) == pytest.approx(1.0)
    assert contains(window, face, 400, 300)
    right = (0.8, 0.2, 0.95, 0.45)
    window = face_window(400, 300, 1.0, [right])
    grown_right = (0.95 + 0.15 * FACE_MARGIN) * 400
    assert window[2] >= min(400, grown_right) - 1e-6 and contains(window, right, 400, 300)


def test_every_face_when_they_fit_else_the_largest():
    left, right = (0.05, 0.4, 0.15, 0.55), (0.85, 0.4, 0.97, 0.58)  # far apart, right larger
    both = face_window(400, 300, 1.6, [left, right])
    assert contains(both, left, 400, 300) and contains(both, right, 400, 300)
    square = face_window(400, 300, 1.0, [left, right])  # 300 px wide: cannot hold both
    assert contains(square, right, 400, 300)
    assert not contains(square, left, 400, 300)


def test_a_small_window_grows_to_hold_the_faces_unless_told_not_to():
    faces = [(0.05, 0.1, 0.2, 0.3), (0.75, 0.6, 0.9, 0.8)]
    grown = face_window(1000, 500, 2.0, faces, fill=0.5)
    assert grown[2] - grown[0] > 500 and all(contains(grown, f, 1000, 500) for f in faces)
    fixed = face_window(1000, 500, 2.0, faces, fill=0.5, grow=False)
    assert fixed[2] - fixed[0] == pytest.approx(500)
    assert sum(contains(fixed, f, 1000, 500) for f in faces) == 1


def test_the_wanted_start_is_kept_where_the_faces_allow():
    assert face_window(400, 300, 1.0, [], fill=0.5, start=(10, 20)) == (10, 20, 160, 170)
    face = (0.6, 0.6, 0.7, 0.7)
    window = face_window(400, 300, 1.0, [face], fill=0.5, start=(10, 20))
    assert contains(window, face, 400, 300) and window[2] - window[0] == pytest.approx(150)


boxes = st.tuples(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.02, 0.4),
                  st.floats(0.02, 0.4)).map(
    lambda b: (b[0], b[1], min(1.0, b[0] + b[2]), min(1.0, b[1] + b[3])))


@settings(max_examples=200, deadline=None)
@given(width=st.integers(50, 5000), height=st.integers(50, 5000),
       aspect=st.floats(0.3, 3.0), faces=st.lists(boxes, max_size=6),
       fill=st.floats(0.3, 1.0))
def test_the_window_fits_the_image_has_the_aspect_and_never_cuts_the_largest_face(
        width, height, aspect, faces, fill):
    window = face_window(width, height, aspect, faces, fill=fill)
    assert _inside_image(window, width, height)
    assert _aspect(window) == pytest.approx(aspect, rel=1e-6)
    max_w, max_h = largest_window(width, height, aspect)
    if faces:
        biggest = max(faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]))
        if (biggest[2] - biggest[0]) * width <= max_w and (biggest[3] - biggest[1]) * height \
                <= max_h:
            assert contains(window, biggest, width, height)
        union = (min(f[0] for f in faces), min(f[1] for f in faces),
                 max(f[2] for f in faces), max(f[3] for f in faces))
        if (union[2] - union[0]) * width <= max_w and (union[3] - union[1]) * height <= max_h:
            assert not cuts_a_face(window, faces, width, height)


def test_in_window_maps_a_face_into_the_crop():
    assert in_window((0.5, 0.5, 0.75, 1.0), (100, 0, 300, 200), 400, 200) == (
        0.5, 0.5, 1.0, 1.0)


def test_rotation_check_matches_pillow():
    """A bright square near the corner: straightening by 6 degrees pushes it out of the
    trimmed frame exactly when the rule says so."""
    width, height, degrees = 600, 400, 6.0
    scale = recipes.straighten_scale(width, height, degrees)
    for face in [(0.03, 0.05, 0.12, 0.2), (0.4, 0.4, 0.55, 0.6), (0.88, 0.8, 0.97, 0.95)]:
        image = Image.new("RGB", (width, height), (0, 0, 0))
        ImageDraw.Draw(image).rectangle((face[0] * width, face[1] * height,
                                         face[2] * width - 1, face[3] * height - 1),
                                        fill=(255, 255, 255))
        recipe = recipes.IDENTITY.model_copy(update={"rotate_degrees": degrees})
        out = np.asarray(apply_recipe(image, recipe), dtype=np.int64)
        kept = (out.sum(-1) > 380).sum()
        whole = (face[2] - face[0]) * width * (face[3] - face[1]) * height
        predicted = rotation_keeps_faces(width, height, degrees, scale, [face])
        assert predicted == (kept > 0.97 * whole), (face, kept, whole)


def _plain_with_subject() -> Image.Image:
    image = Image.new("RGB", (900, 600), (200, 205, 210))
    ImageDraw.Draw(image).ellipse((90, 380, 230, 520), fill=(180, 40, 40))
    return image


def test_edit_crop_holds_every_known_face():
    image = _plain_with_subject()
    assert auto_enhance(image, faces=()).crop == auto_enhance(image).crop  # no face: as before
    face = (0.8, 0.05, 0.9, 0.2)  # a face at the top right, away from the subject
    ImageDraw.Draw(image).rectangle((720, 30, 809, 119), fill=SKIN)
    recipe = auto_enhance(image, face_count=1, faces=(face,))
    crop = recipe.crop
    assert crop is not None  # grown to take the face in
    window = (crop.left * 900, crop.top * 600, crop.right * 900, crop.bottom * 600)
    assert contains(window, face, 900, 600)
    geometry = recipes.IDENTITY.model_copy(update={"crop": recipe.crop,
                                                   "rotate_degrees": recipe.rotate_degrees})
    out = np.asarray(apply_recipe(image, geometry), dtype=np.int64)
    assert (np.abs(out - SKIN).sum(-1) < 30).sum() >= 0.95 * 90 * 90


def test_edit_crop_moves_for_a_face_and_keeps_the_subject():
    image = _plain_with_subject()
    plain = auto_enhance(image).crop
    assert plain is not None and plain.bottom == pytest.approx(1.0)
    face = (0.02, 0.02, 0.1, 0.14)  # top left: outside the plain crop
    window = (plain.left * 900, plain.top * 600, plain.right * 900, plain.bottom * 600)
    assert cuts_a_face(window, [face], 900, 600) or not contains(window, face, 900, 600)
    crop = auto_enhance(image, faces=(face,)).crop
    assert crop is not None
    window = (crop.left * 900, crop.top * 600, crop.right * 900, crop.bottom * 600)
    assert contains(window, face, 900, 600)
    assert crop.right - crop.left == pytest.approx(crop.bottom - crop.top)  # same aspect


def test_unknown_face_boxes_mean_no_crop():
    assert auto_enhance(_plain_with_subject(), face_count=2).crop is None


@pytest.mark.parametrize("tilt", [4.0, -5.0])
def test_no_straightening_that_would_cut_a_face(tilt):
    image = render(Scene(seed=6, tilt_degrees=tilt, subject=None, hills=0))
    assert auto_enhance(image).rotate_degrees != 0
    corner = (0.0, 0.0, 0.08, 0.12)  # trimmed away by any rotation
    centre = (0.45, 0.45, 0.55, 0.6)
    assert auto_enhance(image, faces=(corner,)).rotate_degrees == 0
    assert auto_enhance(image, faces=(centre,)).rotate_degrees == auto_enhance(
        image).rotate_degrees


def test_a_tile_crop_keeps_the_face_instead_of_centring():
    photo = Image.new("RGB", (400, 300), (40, 40, 40))
    ImageDraw.Draw(photo).rectangle((340, 100, 389, 159), fill=SKIN)
    face = (340 / 400, 100 / 300, 390 / 400, 160 / 300)
    centred = np.asarray(fill_tile(photo, 150, 150), dtype=np.int64)
    kept = np.asarray(fill_tile(photo, 150, 150, [face]), dtype=np.int64)
    skin = lambda a: (np.abs(a - SKIN).sum(-1) < 40).sum()  # noqa: E731
    full = 50 * 60 * (150 / 300) ** 2
    assert skin(centred) < 0.2 * full
    assert skin(kept) > 0.9 * full


def test_collage_passes_each_photos_faces_to_its_tile():
    photo = Image.new("RGB", (400, 300), (40, 40, 40))
    ImageDraw.Draw(photo).rectangle((385, 100, 399, 140), fill=SKIN)
    face = (385 / 400, 100 / 300, 1.0, 140 / 300)
    other = Image.new("RGB", (300, 300), (20, 20, 20))
    out = np.asarray(collage([photo, other], width=700, faces=[[face], None]), dtype=np.int64)
    assert (np.abs(out - SKIN).sum(-1) < 40).sum() > 0.9 * 15 * 40 * (700 / 700) ** 2 * 0.5
    assert math.isfinite(out.mean())


def test_intake_keeps_the_face_boxes_and_a_change_of_them_replans():
    def classified(**faces: object) -> MediaClassified:
        return MediaClassified(producer="classifier", data=MediaClassifiedData(
            media_id=uuid.UUID(int=1), user_key="ab" * 16, bucket="gemroll-media",
            object_key="users/u/a.jpg", width=400, height=300, category=Category.photo,
            gem_score=0.8, is_gem=True, model=ModelInfo(name="m", version="1"), **faces))

    box = FaceBox(left=0.1, top=0.2, right=0.3, bottom=0.5, probability=0.99)
    item = media_item(classified(face_count=1, faces=[box]))
    assert item.faces == ((0.1, 0.2, 0.3, 0.5),) and item.face_count == 1
    assert media_item(classified(face_count=0, faces=[])).faces == ()
    older = media_item(classified())
    assert older.faces is None and older.face_count is None
    assert dataclasses.replace(item, faces=()).plan_fields() != item.plan_fields()
