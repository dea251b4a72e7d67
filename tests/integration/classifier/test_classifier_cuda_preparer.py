"""The CUDA preparer (torch and torchvision): its nvJPEG code path on torchvision's CPU
decoder, and on whatever this machine has, nvJPEG on a GPU or the fallback to the CPU after
CUDA refuses. Not unit tests: importing torch and initialising CUDA without a usable driver
take seconds each. No other infrastructure."""

from __future__ import annotations

import numpy as np
from gemroll_classifier.adapters.decode import MODEL_SIZE, decode
from gemroll_classifier.domain.features import Prepared
from gemroll_testkit import photos

PHOTO = photos.scene(1, (640, 480))


async def test_cuda_preparer_falls_back_to_the_cpu_and_keeps_order():
    """Without a GPU (or when nvJPEG refuses a batch) every file still comes out, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from gemroll_classifier.adapters.preparers import CpuPreparer, CudaPreparer

    blobs = [photos.jpeg(PHOTO, exif=photos.camera_exif()), photos.screenshot_png(),
             photos.broken_jpeg(), photos.cmyk_jpeg(PHOTO)]
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

    blobs = [photos.jpeg(PHOTO, exif=photos.camera_exif()),
             photos.jpeg(PHOTO, exif=photos.camera_exif(orientation=6))]
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
