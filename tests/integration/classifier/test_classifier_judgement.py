"""What a person sees, judged by the real models and the shipped learned head: a few pixels of
blur make junk with a `blurry:*` reason; a sharp subject on a soft background, a messenger's
copy and a photo cropped to an exact screen size stay photos (metadata alone decides nothing).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from gemroll_classifier.settings import ClassifierSettings
from gemroll_contracts import MediaClassifiedData, MediaUploaded, MediaUploadedData
from gemroll_dev.samples.system import ensure_debian_packages
from gemroll_testkit import photos
from gemroll_testkit.local_classifier import LocalPipeline
from PIL import Image, ImageFilter

pytestmark = pytest.mark.integration

SOURCES = {  # real photos of Debian packages: a 13 MP one, crisp at its own size ...
    "dragonfly": ("lomiri-wallpapers-16.04", "/usr/share/backgrounds/Dragonfly_by_Bolly.jpg"),
    # ... and a macro that is soft at its stored 2560 px, crisp at half that
    "ladybird": ("mate-backgrounds", "/usr/share/backgrounds/mate/nature/LadyBird.jpg"),
}


@pytest.fixture(scope="module")
def real() -> dict[str, Image.Image]:
    ensure_debian_packages(SOURCES.values())
    out = {k: Image.open(p).convert("RGB") for k, (_, p) in SOURCES.items()}
    ladybird = out["ladybird"]
    out["ladybird"] = ladybird.resize((ladybird.width // 2, ladybird.height // 2),
                                      Image.Resampling.LANCZOS)
    return out


def motion(image: Image.Image, length: int) -> Image.Image:
    """A horizontal shake of `length` pixels."""
    arr = np.asarray(image, dtype=np.float32)
    out = np.zeros_like(arr)
    for dx in range(length):
        out += np.roll(arr, dx - length // 2, axis=1)
    return Image.fromarray((out / length).clip(0, 255).astype(np.uint8))


def bokeh(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = image.size
    soft = image.filter(ImageFilter.GaussianBlur(14))
    x0, y0, x1, y1 = (round(v) for v in (box[0] * w, box[1] * h, box[2] * w, box[3] * h))
    soft.paste(image.crop((x0, y0, x1, y1)), (x0, y0))
    return soft


def classify(models, files: dict[str, bytes]) -> dict[str, MediaClassifiedData]:  # noqa: ANN001
    ids = {name: uuid.uuid4() for name in files}
    pipeline = LocalPipeline.create(ClassifierSettings(device="cpu"), models=models,
                                    load=lambda key: files.get(key))
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    uploads = [MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=ids[name], user_key=f"{n:032x}", bucket="gemroll-media", object_key=name,
        content_type="image/png" if data[:4] == b"\x89PNG" else "image/jpeg",
        size_bytes=len(data), sha256="0" * 64, width=1, height=1,
        captured_at=t0 + timedelta(days=n)))  # a user each: variants are not one burst
        for n, (name, data) in enumerate(files.items())]
    asyncio.run(pipeline.classify.classify(uploads))
    by_id = {e.data.media_id: e.data for e in pipeline.sink.events}
    return {name: by_id[i] for name, i in ids.items()}


def test_a_few_pixels_of_blur_make_junk_and_a_sharp_subject_does_not(classifier_models, real):
    """On a 13-megapixel frame: defocus of 4 and 12 px (Gaussian sigma 2 and 6) and a 12 px
    shake are blurry; the frame itself and a sharp ladybird on a blurred leaf are gems."""
    dragonfly, ladybird = real["dragonfly"], real["ladybird"]
    exif = photos.camera_exif()
    got = classify(classifier_models, {
        "sharp": photos.jpeg(dragonfly, exif=exif),
        "defocus_4px": photos.jpeg(dragonfly.filter(ImageFilter.GaussianBlur(2)), exif=exif),
        "defocus_12px": photos.jpeg(dragonfly.filter(ImageFilter.GaussianBlur(6)), exif=exif),
        "shake_12px": photos.jpeg(motion(dragonfly, 12), exif=exif),
        "macro_bokeh": photos.jpeg(bokeh(ladybird, (0.42, 0.3, 0.95, 0.75)), exif=exif),
    })
    assert got["sharp"].is_gem and got["macro_bokeh"].is_gem, {
        k: v.reasons for k, v in got.items()}
    for name in ("defocus_4px", "defocus_12px", "shake_12px"):
        assert got[name].category == "photo" and not got[name].is_gem, got[name].reasons
        assert any(r.startswith("blurry:") for r in got[name].reasons), got[name].reasons


def test_copies_without_metadata_are_still_photos(classifier_models, real):
    dragonfly = real["dragonfly"]
    chat = dragonfly.copy()
    chat.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    screen_sized = dragonfly.crop((800, 600, 3332, 1770))  # exactly an iPhone screen, no EXIF
    got = classify(classifier_models, {
        "chat_1280": photos.jpeg(chat, quality=75),
        "chat_1600": photos.jpeg(dragonfly.resize((1600, 1200), Image.Resampling.LANCZOS),
                                 quality=75),
        "screen_sized_png": photos.png(screen_sized),
    })
    for name, verdict in got.items():
        assert verdict.category == "photo", (name, verdict.reasons)
