"""Decoding: orientation, HEIC, CMYK, 16-bit, animation, alpha, and unreadable files."""

from __future__ import annotations

import numpy as np
import pytest
from gemroll_classifier import synthetic as syn
from gemroll_classifier.adapters.decode import MODEL_SIZE, decode
from gemroll_classifier.domain.features import Prepared, Unreadable

PHOTO = syn.photo_array(1, (640, 480))


def test_jpeg_with_camera_exif():
    p = decode(syn.jpeg(PHOTO, exif=syn.camera_exif()), analysis_long_side=320)
    assert p.facts.file_format == "JPEG" and p.facts.camera_make == "Apple"
    assert p.facts.has_capture_exif and (p.facts.width, p.facts.height) == (640, 480)
    assert max(p.rgb.shape[:2]) <= 320 and p.rgb.shape[1] > p.rgb.shape[0]
    assert p.model_input.shape == (MODEL_SIZE, MODEL_SIZE, 3)
    assert 0 <= p.phash < 2**64


def test_exif_orientation_is_applied():
    p = decode(syn.jpeg(PHOTO, exif=syn.camera_exif(orientation=6)), analysis_long_side=320)
    assert (p.facts.width, p.facts.height) == (480, 640)
    assert p.rgb.shape[0] > p.rgb.shape[1]  # portrait after rotation


def test_large_jpeg_is_decoded_at_reduced_scale():
    big = syn.jpeg(syn.photo_array(2, (4032, 3024)), exif=syn.camera_exif())
    p = decode(big, analysis_long_side=448)
    assert (p.facts.width, p.facts.height) == (4032, 3024)
    assert max(p.rgb.shape[:2]) == 448


@pytest.mark.parametrize("make", [syn.heic, syn.cmyk_jpeg, syn.gray16_png, syn.animated_gif,
                                  syn.rgba_png])
def test_odd_formats_decode_to_rgb(make):
    p = decode(make(PHOTO), analysis_long_side=320)
    assert p.rgb.dtype == np.uint8 and p.rgb.shape[2] == 3
    assert 0.2 < p.stats.brightness < 0.8  # neither black nor white: modes were converted


def test_heic_is_read_as_heif():
    assert decode(syn.heic(PHOTO), analysis_long_side=320).facts.file_format == "HEIF"


def test_animated_gif_counts_frames():
    assert decode(syn.animated_gif(PHOTO, frames=3)).facts.frames == 3


@pytest.mark.parametrize(("data", "detail"), [
    (b"", "empty"),
    (syn.broken_jpeg(), "unknown_format"),
    (b"hello, not an image at all", "unknown_format"),
    (syn.jpeg(PHOTO)[:600], "decode_error"),  # truncated
])
def test_unreadable_files(data, detail):
    with pytest.raises(Unreadable) as err:
        decode(data)
    assert err.value.detail == detail


def test_too_many_pixels():
    with pytest.raises(Unreadable) as err:
        decode(syn.jpeg(PHOTO), max_pixels=1000)
    assert err.value.detail == "too_large"


async def test_cuda_preparer_falls_back_to_the_cpu_and_keeps_order():
    """Without a GPU (or when nvJPEG refuses a batch) every file still comes out, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from gemroll_classifier.adapters.preparers import CpuPreparer, CudaPreparer

    blobs = [syn.jpeg(PHOTO, exif=syn.camera_exif()), syn.screenshot_png(), syn.broken_jpeg(),
             syn.cmyk_jpeg(PHOTO)]
    pool = ThreadPoolExecutor(2)
    cuda = await CudaPreparer(pool, analysis_long_side=320, max_pixels=10**8).prepare(blobs)
    cpu = await CpuPreparer(pool, analysis_long_side=320, max_pixels=10**8).prepare(blobs)
    assert [type(r).__name__ for r in cuda] == ["Prepared", "Prepared", "Unreadable", "Prepared"]
    assert [r.facts.file_format if isinstance(r, Prepared) else None for r in cuda] == \
        [r.facts.file_format if isinstance(r, Prepared) else None for r in cpu]


async def test_gpu_decode_path_matches_pillow():
    """The nvJPEG code path, run on torchvision's CPU decoder: same geometry and orientation
    as Pillow, statistics close, model input ready for the model."""
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from gemroll_classifier.adapters.preparers import CudaPreparer

    blobs = [syn.jpeg(PHOTO, exif=syn.camera_exif()),
             syn.jpeg(PHOTO, exif=syn.camera_exif(orientation=6))]
    preparer = CudaPreparer(ThreadPoolExecutor(2), analysis_long_side=320, max_pixels=10**8,
                            device="cpu")
    gpu = await preparer.prepare(blobs)
    pil = [decode(b, analysis_long_side=320) for b in blobs]
    for g, p in zip(gpu, pil, strict=True):
        assert isinstance(g.model_input, torch.Tensor)
        assert tuple(g.model_input.shape) == (3, MODEL_SIZE, MODEL_SIZE)
        assert g.rgb.shape == p.rgb.shape and g.facts == p.facts
        assert abs(g.stats.brightness - p.stats.brightness) < 0.02
        assert np.abs(g.rgb.astype(int) - p.rgb.astype(int)).mean() < 8
