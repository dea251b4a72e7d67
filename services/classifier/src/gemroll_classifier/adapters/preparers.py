"""Preparers: files to analysis images and model inputs, on CPU threads or on the GPU."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from gemroll_common.logging import get_logger
from PIL import Image

from ..domain.detail import detail_stats
from ..domain.features import Prepared, Unreadable
from .decode import DETAIL_LONG, MODEL_SIZE, decode, finish, open_image, read_facts

log = get_logger(__name__)


def _safe(fn, blob: bytes) -> Prepared | Unreadable:  # noqa: ANN001
    try:
        return fn(blob)
    except Unreadable as exc:
        return exc


class CpuPreparer:
    """Pillow in a thread pool sized to the cores (JPEG draft decoding at reduced scale)."""

    def __init__(self, pool: ThreadPoolExecutor, *, analysis_long_side: int,
                 max_pixels: int) -> None:
        self._pool = pool
        self._decode = partial(decode, analysis_long_side=analysis_long_side,
                               max_pixels=max_pixels)

    async def prepare(self, blobs: Sequence[bytes]) -> list[Prepared | Unreadable]:
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(
            *(loop.run_in_executor(self._pool, _safe, self._decode, b) for b in blobs)))


class CudaPreparer:
    """JPEGs decoded in one batch on the GPU (nvJPEG through torchvision), resized there;
    the small analysis image comes back to the CPU for statistics and hashing. Other formats,
    and JPEGs the GPU decoder refuses, go through the CPU preparer."""

    def __init__(self, pool: ThreadPoolExecutor, *, analysis_long_side: int,
                 max_pixels: int, device: str = "cuda") -> None:
        self._pool = pool
        self._device = device  # "cpu" runs the same code path without a GPU (tests)
        self._long = analysis_long_side
        self._max_pixels = max_pixels
        self._cpu = CpuPreparer(pool, analysis_long_side=analysis_long_side,
                                max_pixels=max_pixels)

    def _header(self, blob: bytes):  # noqa: ANN202
        try:
            im = open_image(blob, self._max_pixels)
        except Unreadable:
            return None
        with im:
            facts, _ = read_facts(im)
            if im.format != "JPEG" or im.mode not in ("RGB", "L"):
                return None
            return facts

    def _gpu_batch(self, blobs: Sequence[bytes]) -> list[tuple[np.ndarray, object, np.ndarray]]:
        """Decode + resize on the GPU: (analysis RGB on the CPU, model input on the GPU,
        detail-sized luminance on the CPU)."""
        import warnings

        import torch
        import torch.nn.functional as F

        with warnings.catch_warnings():  # torchvision 0.29 points to TorchCodec; still works
            warnings.simplefilter("ignore", DeprecationWarning)
            from torchvision.io import ImageReadMode, decode_jpeg

        data = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in blobs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            images = decode_jpeg(data, mode=ImageReadMode.RGB, device=self._device,
                                 apply_exif_orientation=True)
        out = []
        for img in images:
            _, h, w = img.shape
            scale = min(1.0, self._long / max(h, w))
            ah, aw = max(8, round(h * scale)), max(8, round(w * scale))
            small = F.interpolate(img[None].float(), size=(ah, aw), mode="bilinear",
                                  antialias=True, align_corners=False)
            m = MODEL_SIZE / min(ah, aw)
            mh, mw = max(MODEL_SIZE, round(ah * m)), max(MODEL_SIZE, round(aw * m))
            model = F.interpolate(small, size=(mh, mw), mode="bilinear", antialias=True,
                                  align_corners=False)
            top, left = (mh - MODEL_SIZE) // 2, (mw - MODEL_SIZE) // 2
            model = model[0, :, top:top + MODEL_SIZE, left:left + MODEL_SIZE]
            model = model.clamp_(0, 255).round_().to(torch.uint8)
            rgb = small[0].clamp_(0, 255).round_().to(torch.uint8).permute(1, 2, 0)
            out.append((rgb.contiguous().cpu().numpy(), model, _detail_luma(img)))
        return out

    def _finish(self, facts, rgb: np.ndarray, model_input: object,  # noqa: ANN001
                luma: np.ndarray) -> Prepared:
        stored_long = max(facts.width, facts.height)
        return finish(facts, Image.fromarray(rgb), model_input,
                      detail_stats(luma, max(luma.shape) / max(1, stored_long)))

    async def prepare(self, blobs: Sequence[bytes]) -> list[Prepared | Unreadable]:
        loop = asyncio.get_running_loop()
        headers = await asyncio.gather(
            *(loop.run_in_executor(self._pool, self._header, b) for b in blobs))
        gpu_idx = [i for i, facts in enumerate(headers) if facts is not None]
        results: list[Prepared | Unreadable | None] = [None] * len(blobs)
        decoded: list[tuple[np.ndarray, object]] | None = None
        if gpu_idx:
            try:
                decoded = await loop.run_in_executor(
                    None, self._gpu_batch, [blobs[i] for i in gpu_idx])
            except Exception as exc:  # noqa: BLE001 - one bad JPEG fails the whole GPU batch
                log.warning("gpu_decode_failed_using_cpu", images=len(gpu_idx),
                            error_type=type(exc).__name__, error=str(exc)[:300])
                decoded = None
        if decoded is not None:
            finished = await asyncio.gather(*(
                loop.run_in_executor(self._pool, self._finish, headers[i], rgb, model, luma)
                for i, (rgb, model, luma) in zip(gpu_idx, decoded, strict=True)))
            for i, prepared in zip(gpu_idx, finished, strict=True):
                results[i] = prepared
        rest = [i for i, r in enumerate(results) if r is None]
        if rest:
            for i, r in zip(rest, await self._cpu.prepare([blobs[i] for i in rest]), strict=True):
                results[i] = r
        return [r for r in results if r is not None]


def _detail_luma(img) -> np.ndarray:  # noqa: ANN001 - a 3 x H x W uint8 CUDA tensor
    """The luminance the CPU path measures sharpness on (`decode.measure_detail`): at most
    DETAIL_LONG px long side."""
    import torch
    import torch.nn.functional as F

    x = img[None].float()
    luma = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    h, w = luma.shape[2:]
    if max(h, w) > DETAIL_LONG:
        scale = DETAIL_LONG / max(h, w)
        luma = F.interpolate(luma, size=(max(8, round(h * scale)), max(8, round(w * scale))),
                             mode="bilinear", antialias=True, align_corners=False)
    return luma[0, 0].clamp_(0, 255).round_().to(torch.uint8).cpu().numpy()


def preparer_for(device: str, pool: ThreadPoolExecutor, *, analysis_long_side: int,
                 max_pixels: int) -> CpuPreparer | CudaPreparer:
    """The GPU decoder on a CUDA device, Pillow threads otherwise."""
    cls = CudaPreparer if device == "cuda" else CpuPreparer
    return cls(pool, analysis_long_side=analysis_long_side, max_pixels=max_pixels)
