"""Faces in the domain: fractions, the counting floors, and face sharpness on luminance."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from gemroll_classifier.adapters.preparers import CpuPreparer
from gemroll_classifier.domain.faces import (
    MAX_FACES,
    NO_FACES,
    Face,
    face_from_pixels,
    face_sharpness,
    face_stats,
    keep_faces,
)
from gemroll_classifier.domain.features import Prepared
from gemroll_classifier.domain.pixels import luminance
from gemroll_classifier.usecases.classify_batch import ClassifyBatch
from gemroll_contracts import MediaUploaded, MediaUploadedData
from gemroll_testkit import photos

sys.path.insert(0, str(Path(__file__).parent))
from classifier_fakes import FakeModel, FakeNsfw, FakeReader, FakeSink, FakeStore  # noqa: E402

CENTRE = Face(0.3, 0.2, 0.7, 0.8, 0.999)


def _gray(seed: int = 4) -> np.ndarray:
    return luminance(photos.scene(seed, (448, 336)))


def test_face_from_pixels_gives_fractions_clipped_to_the_image():
    face = face_from_pixels((-10.0, 30.0, 110.0, 90.0), 0.98,
                            [(20, 50), (60, 50), (40, 60), (25, 75), (55, 75)], 100, 200)
    assert face.box == (0.0, 0.15, 1.0, 0.45)
    assert face.probability == 0.98
    assert face.landmarks[0] == (0.2, 0.25) and len(face.landmarks) == 5
    assert face.area == pytest.approx(0.3)
    assert face.size == pytest.approx(0.3 ** 0.5)


def test_face_is_frozen_and_has_no_identity():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CENTRE.x0 = 0.1  # type: ignore[misc]
    names = {f.name for f in dataclasses.fields(Face)}
    assert names == {"x0", "y0", "x1", "y1", "probability", "landmarks"}


def test_keep_faces_drops_tiny_and_improbable_and_sorts_largest_first():
    big, small = Face(0.1, 0.1, 0.5, 0.6, 0.99), Face(0.6, 0.1, 0.7, 0.25, 0.995)
    speck = Face(0.8, 0.8, 0.81, 0.81, 1.0)  # size 0.01
    doubtful = Face(0.2, 0.5, 0.6, 0.9, 0.75)
    assert keep_faces([small, speck, doubtful, big]) == (big, small)
    assert keep_faces([doubtful], min_probability=0.7) == (doubtful,)
    many = [Face(i / 200, 0.0, i / 200 + 0.1, 0.1, 0.99) for i in range(100)]
    assert len(keep_faces(many)) == MAX_FACES
    assert len(keep_faces(many, limit=None)) == 100


def test_blurred_face_is_less_sharp_than_the_sharp_one():
    gray = _gray()
    blurred = luminance(photos.blurred(photos.scene(4, (448, 336)), 3))
    sharp, soft = face_sharpness(gray, CENTRE), face_sharpness(blurred, CENTRE)
    assert 0.0 <= soft < sharp <= 1.0
    assert soft < sharp * 0.6


def test_face_sharpness_ignores_brightness_and_scale():
    gray = _gray()
    base = face_sharpness(gray, CENTRE)
    assert face_sharpness(gray * 0.3, CENTRE) == pytest.approx(base, abs=1e-3)  # darker
    assert face_sharpness(gray * 0.5 + 100, CENTRE) == pytest.approx(base, abs=1e-3)
    assert face_sharpness(gray / 255.0, CENTRE) == pytest.approx(base, abs=1e-3)  # 0..1


def test_face_sharpness_only_looks_inside_the_box():
    gray = _gray()
    left = Face(0.05, 0.1, 0.45, 0.9, 0.99)
    smeared = gray.copy()
    smeared[:, 224:] = luminance(photos.blurred(photos.scene(4, (448, 336)), 4))[:, 224:]
    assert face_sharpness(smeared, left) == pytest.approx(face_sharpness(gray, left))


def test_face_sharpness_of_flat_or_tiny_boxes_is_zero():
    assert face_sharpness(np.full((100, 100), 90.0), CENTRE) == 0.0
    assert face_sharpness(_gray(), Face(0.5, 0.5, 0.51, 0.51, 0.99)) == 0.0


def test_face_stats_summarise_the_faces_that_count():
    gray = _gray()
    blurred = gray.copy()
    blurred[:, :224] = luminance(photos.blurred(photos.scene(4, (448, 336)), 3))[:, :224]
    soft, crisp = Face(0.05, 0.1, 0.45, 0.9, 0.99), Face(0.6, 0.3, 0.9, 0.7, 0.999)
    speck = Face(0.8, 0.8, 0.81, 0.81, 1.0)
    stats = face_stats([soft, crisp, speck, Face(0.1, 0.1, 0.9, 0.9, 0.5)], blurred)
    assert stats.count == 2
    assert stats.largest_area == pytest.approx(soft.area, abs=1e-4)
    assert stats.sharpest == face_sharpness(blurred, crisp)
    assert stats.mean_sharpness == pytest.approx(
        (face_sharpness(blurred, soft) + face_sharpness(blurred, crisp)) / 2, abs=1e-4)
    assert face_stats([], gray) == NO_FACES == face_stats([speck], gray)
    assert NO_FACES.count == 0 and NO_FACES.sharpest == 0.0


def test_prepared_has_no_faces_until_detection():
    fields = {f.name: f for f in dataclasses.fields(Prepared)}
    assert fields["faces"].default == ()


# -- the batch step: faces on photos only, face_count and boxes in MediaClassified ----------

class FakeFaces:
    """Finds one big face, one speck and one doubtful detection on every image."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, ...]] = []

    def detect(self, rgb: np.ndarray) -> tuple[Face, ...]:
        self.seen.append(rgb.shape)
        return (Face(0.8, 0.8, 0.81, 0.81, 1.0), CENTRE, Face(0.0, 0.0, 0.5, 0.5, 0.6))


def _batch(objects: dict[str, bytes], faces: FakeFaces | None):
    pool, sink = ThreadPoolExecutor(2), FakeSink()
    classify = ClassifyBatch(
        reader=FakeReader(objects), preparer=CpuPreparer(pool, analysis_long_side=320,
                                                         max_pixels=10**8),
        model=FakeModel(), nsfw=FakeNsfw(), store=FakeStore(), sink=sink,
        model_pool=ThreadPoolExecutor(1), faces=faces, cpu_pool=pool)
    return classify, sink


def _upload(key: str, content_type: str = "image/jpeg", **extra) -> MediaUploaded:
    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key="ab" * 16, bucket="gemroll-media", object_key=key,
        content_type=content_type, size_bytes=100, sha256="0" * 64, width=10, height=10,
        **extra))


async def test_photos_get_their_counted_faces_and_others_none():
    faces = FakeFaces()
    classify, sink = _batch({"p": photos.photo_jpeg(1), "bad": photos.broken_jpeg(),
                             "clip": b"not a video"}, faces)
    ups = [_upload("p"), _upload("bad"),
           _upload("clip", media_kind="video", content_type="video/mp4")]
    await classify.classify(ups)
    by_key = {e.data.object_key: e.data for e in sink.events}
    assert by_key["p"].face_count == 1
    [box] = by_key["p"].faces
    assert (box.left, box.top, box.right, box.bottom, box.probability) == (
        CENTRE.x0, CENTRE.y0, CENTRE.x1, CENTRE.y1, CENTRE.probability)
    assert by_key["bad"].face_count is None and by_key["bad"].faces is None
    assert by_key["clip"].face_count is None and by_key["clip"].faces is None
    assert len(faces.seen) == 1 and faces.seen[0][2] == 3  # the photo's analysis image only


async def test_without_a_detector_faces_are_not_checked():
    classify, sink = _batch({"p": photos.photo_jpeg(1)}, None)
    await classify.classify([_upload("p")])
    [event] = sink.events
    assert event.data.face_count is None and event.data.faces is None


async def test_a_failing_detector_leaves_faces_unchecked_not_the_batch():
    class Broken:
        def detect(self, rgb: np.ndarray) -> tuple[Face, ...]:
            raise RuntimeError("boom")

    classify, sink = _batch({"p": photos.photo_jpeg(1)}, Broken())  # type: ignore[arg-type]
    await classify.classify([_upload("p")])
    [event] = sink.events
    assert event.data.face_count is None and event.data.quality is not None
