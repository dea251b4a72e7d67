"""The real MTCNN (facenet-pytorch's P/R/O-Net weights from its wheel) on real photos, at the
classifier's analysis size: one face where there is one, none on landscapes and objects, and a
blurred face scores lower on face sharpness than the sharp original."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import skimage
from gemroll_classifier.adapters.decode import decode
from gemroll_classifier.adapters.faces import MtcnnFaceDetector
from gemroll_classifier.domain.faces import face_sharpness, face_stats
from gemroll_classifier.domain.pixels import luminance
from gemroll_classifier.settings import ClassifierSettings
from gemroll_contracts import MediaUploaded, MediaUploadedData
from gemroll_dev.samples.system import ensure_debian_packages
from gemroll_testkit.local_classifier import LocalPipeline
from PIL import Image, ImageFilter

pytestmark = pytest.mark.integration

SKIMAGE = Path(skimage.__file__).parent / "data"
MPL = Path(matplotlib.get_data_path()) / "sample_data"
MATE = Path("/usr/share/backgrounds/mate/nature")  # Debian mate-backgrounds (make setup)

WITH_FACE = [SKIMAGE / "astronaut.png", SKIMAGE / "camera.png", MPL / "grace_hopper.jpg"]


def _without_face() -> list[Path]:
    ensure_debian_packages([("mate-backgrounds", str(MATE / "Garden.jpg"))])
    return [SKIMAGE / "coffee.png", SKIMAGE / "rocket.jpg", *sorted(MATE.glob("*.jpg"))]


@pytest.fixture(scope="module")
def detector() -> MtcnnFaceDetector:
    faces = MtcnnFaceDetector(device="cpu")
    faces.load()
    return faces


def _analysis(path: Path) -> np.ndarray:
    """The image as the classifier analyses it (long side ~448 px)."""
    return decode(path.read_bytes(), analysis_long_side=448).rgb


@pytest.mark.parametrize("path", WITH_FACE, ids=lambda p: p.name)
def test_one_face_on_each_portrait(detector, path):
    rgb = _analysis(path)
    faces = detector.detect(rgb)
    stats = face_stats(faces, luminance(rgb))
    assert stats.count == 1, faces
    face = faces[0]
    assert face.probability > 0.95 and 0.0 <= face.x0 < face.x1 <= 1 and face.y0 < face.y1 <= 1
    assert len(face.landmarks) == 5
    (lx, ly), (rx, ry) = face.landmarks[:2]  # the eyes: inside the box, left of each other
    assert face.x0 < lx < rx < face.x1 and face.y0 < ly < face.y1 and face.y0 < ry < face.y1


def test_no_face_on_landscapes_and_objects(detector):
    paths = _without_face()
    assert len(paths) >= 8
    counts = {p.name: face_stats(detector.detect(rgb := _analysis(p)), luminance(rgb)).count
              for p in paths}
    assert counts == dict.fromkeys(counts, 0)


def test_a_blurred_face_is_less_sharp(detector):
    rgb = _analysis(SKIMAGE / "astronaut.png")
    soft = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(2.5)))
    sharp_faces, soft_faces = detector.detect(rgb), detector.detect(soft)
    assert len(sharp_faces) == 1 and len(soft_faces) == 1  # still found, but soft
    sharp = face_sharpness(luminance(rgb), sharp_faces[0])
    blurred = face_sharpness(luminance(soft), soft_faces[0])
    assert blurred < sharp * 0.6, (sharp, blurred)
    assert face_stats(soft_faces, luminance(soft)).sharpest == blurred


def test_thread_safe_and_deterministic(detector):
    images = [_analysis(p) for p in WITH_FACE] * 3
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(detector.detect, images))
    alone = [detector.detect(rgb) for rgb in images]
    assert together == alone
    assert [len(f) for f in alone] == [1] * len(images)


def test_tiny_or_flat_images_have_no_faces(detector):
    assert detector.detect(np.zeros((8, 8, 3), np.uint8)) == ()
    assert detector.detect(np.full((300, 400, 3), 128, np.uint8)) == ()


def test_the_pipeline_publishes_the_count_and_the_boxes(classifier_models):
    """Through the in-process pipeline (what the evaluation uses): the portrait gets one face
    box, the landscape none; neither carries anything but boxes."""
    assert classifier_models.faces is not None
    files = {"portrait.png": (SKIMAGE / "astronaut.png").read_bytes(),
             "landscape.jpg": (SKIMAGE / "rocket.jpg").read_bytes()}
    pipeline = LocalPipeline.create(ClassifierSettings(device="cpu", threads=2),
                                    models=classifier_models, load=files.get)
    uploads = [MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=f"{n:032x}", bucket="gemroll-media", object_key=name,
        content_type="image/png" if name.endswith("png") else "image/jpeg",
        size_bytes=len(data), sha256="0" * 64, width=1, height=1,
        captured_at=datetime(2024, 6, 1, tzinfo=UTC)))
        for n, (name, data) in enumerate(files.items())]
    asyncio.run(pipeline.classify.classify(uploads))
    got = {e.data.object_key: e.data for e in pipeline.sink.events}
    portrait, landscape = got["portrait.png"], got["landscape.jpg"]
    assert portrait.face_count == 1 and len(portrait.faces) == 1
    box = portrait.faces[0]
    assert 0.3 < box.left < box.right < 0.7 and 0.05 < box.top < box.bottom < 0.5  # her face
    assert set(box.model_dump()) == {"left", "top", "right", "bottom", "probability"}
    assert landscape.face_count == 0 and landscape.faces == []
