"""`make bench-classifier`: 12-megapixel phone JPEGs from bytes to MediaClassified.

    python -m gemroll_dev.bench.classifier [--images 64] [--repeats 3] [--device auto]

Measures, in the same run and each in its own process (for an honest peak RSS):

* pipeline: the classifier's real use case minus Kafka/S3/PostgreSQL (`LocalPipeline`):
  micro-batches of 32, concurrent reads, JPEG draft decoding in a thread pool, one batched
  model call per micro-batch, NSFW only on would-be gems; on the GPU when there is one;
* naive: the same scorer and models, one image at a time, full-resolution decoding;
* gpu-decode (CUDA only): torchvision's nvJPEG batch decode + resize alone, the ceiling.

CPU runs are pinned to 2 cores (torch, onnxruntime and the decode pool use 2 threads).
Figures are medians over the repeats; the ratio is pipeline / naive (and pipeline / ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CPU_CORES = 2


def bench_jpegs(folder: Path, count: int) -> list[Path]:
    """12 MP phone JPEGs: from gemroll_dev.samples when present, else synthetic ones."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.jpg"))
    if len(existing) >= count:
        return existing[:count]
    try:
        from gemroll_dev import samples

        build = getattr(samples, "build_bench_jpegs", None)
        if build is not None:
            build(folder, count)
        else:
            samples.build_camera_roll(folder, size="bench", seed=0)
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
        if len(found) >= count:
            return found[:count]
    except Exception as exc:  # noqa: BLE001 - fall back to synthetic 12 MP photos
        print(f"(gemroll_dev.samples unavailable for bench JPEGs: {exc}; using synthetic)")
    from gemroll_testkit import photos

    for i in range(len(existing), count):
        (folder / f"synthetic-{i:03d}.jpg").write_bytes(
            photos.photo_jpeg(i, (4032, 3024), quality=92))
    return sorted(folder.glob("*.jpg"))[:count]


def _uploads(names: list[str], run: int) -> list[Any]:
    """Each run is a fresh user's camera roll (else the repeats would be near duplicates of
    the first run's photos, and duplicates skip NSFW)."""
    from gemroll_contracts import MediaUploaded, MediaUploadedData

    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    user = f"{run + 2:032x}"
    return [MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key=user, bucket="gemroll-media", object_key=name,
        content_type="image/jpeg", size_bytes=1, sha256="0" * 64, width=4032, height=3024,
        captured_at=t0 + timedelta(minutes=i))) for i, name in enumerate(names)]


class NaivePreparer:
    """Full-resolution decode, one image at a time, on the event loop's thread."""

    def __init__(self, analysis_long_side: int) -> None:
        self._long = analysis_long_side

    async def prepare(self, blobs: Any) -> list[Any]:
        from gemroll_classifier.adapters.decode import finish, read_facts
        from PIL import Image, ImageOps

        out = []
        for blob in blobs:
            with Image.open(io.BytesIO(blob)) as im:
                facts, _ = read_facts(im)
                rgb = ImageOps.exif_transpose(im).convert("RGB")
                rgb.thumbnail((self._long, self._long), Image.Resampling.BILINEAR)
                out.append(finish(facts, rgb))
        return out


async def _variant(kind: str, files: list[Path], repeats: int, device: str) -> dict[str, Any]:
    from gemroll_classifier.settings import ClassifierSettings
    from gemroll_testkit.local_classifier import LocalPipeline

    threads = CPU_CORES if device == "cpu" else (os.cpu_count() or 4)
    settings = ClassifierSettings(device=device, threads=threads, batch_max=32)
    blobs = {f.name: f.read_bytes() for f in files}
    pipeline = LocalPipeline.create(settings)
    pipeline.reader.objects.update(blobs)
    if kind == "naive":
        pipeline.classify.preparer = NaivePreparer(settings.analysis_long_side)
    names = list(blobs)
    # load the models and warm up with a full batch (oneDNN builds its kernels per shape)
    await pipeline.classify.classify(_uploads(names[:settings.batch_max], -1))
    rates, cpu_ms = [], []
    for run in range(repeats):
        uploads = _uploads(names, run)
        started, cpu_started = time.perf_counter(), time.process_time()
        if kind == "naive":
            for upload in uploads:
                await pipeline.classify.classify([upload])
        else:
            for i in range(0, len(uploads), settings.batch_max):
                await pipeline.classify.classify(uploads[i:i + settings.batch_max])
        rates.append(len(uploads) / (time.perf_counter() - started))
        cpu_ms.append((time.process_time() - cpu_started) * 1000 / len(uploads))
    gems = sum(e.data.is_gem for e in pipeline.sink.events)
    return {"variant": kind, "device": pipeline.device, "images": len(names),
            "images_per_s": statistics.median(rates), "runs": [round(r, 2) for r in rates],
            "cpu_ms_per_image": statistics.median(cpu_ms),
            "gems": gems, "events": len(pipeline.sink.events)}


def _gpu_decode(files: list[Path], repeats: int, long_side: int = 448) -> dict[str, Any]:
    import warnings

    import torch
    import torch.nn.functional as F

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import ImageReadMode, decode_jpeg

    data = [torch.frombuffer(bytearray(f.read_bytes()), dtype=torch.uint8) for f in files]
    rates = []
    for run in range(repeats + 1):
        torch.cuda.synchronize()
        started = time.perf_counter()
        for i in range(0, len(data), 32):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                images = decode_jpeg(data[i:i + 32], mode=ImageReadMode.RGB, device="cuda")
            for img in images:
                _, h, w = img.shape
                s = long_side / max(h, w)
                F.interpolate(img[None].float(), size=(round(h * s), round(w * s)),
                              mode="bilinear", antialias=True)
        torch.cuda.synchronize()
        if run:  # the first run warms nvJPEG up
            rates.append(len(data) / (time.perf_counter() - started))
    return {"variant": "gpu-decode", "device": "cuda", "images": len(data),
            "images_per_s": statistics.median(rates), "runs": [round(r, 2) for r in rates]}


def _child(args: argparse.Namespace) -> None:
    files = [Path(p) for p in json.loads(args.files)]
    if args.device == "cpu" and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[:CPU_CORES]
        os.sched_setaffinity(0, cores)
    if args.variant == "gpu-decode":
        result = _gpu_decode(files, args.repeats)
    else:
        result = asyncio.run(_variant(args.variant, files, args.repeats, args.device))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(variant: str, files: list[Path], repeats: int, device: str) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(CPU_CORES)} if device == "cpu" else None
    proc = subprocess.run(
        [sys.executable, "-m", "gemroll_dev.bench.classifier", "--child", variant,
         "--device", device, "--repeats", str(repeats), "--files",
         json.dumps([str(f) for f in files])],
        capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{variant} failed:\n{proc.stderr[-3000:]}")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.bench.classifier")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--naive-images", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--out", type=Path, default=Path(".cache/bench/classifier"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.variant = args.child
        _child(args)
        return 0

    from gemroll_classifier.settings import ClassifierSettings
    from gemroll_classifier.weights import seed

    settings = ClassifierSettings()
    seed(settings.torch_home, settings.wheel_dir)
    files = bench_jpegs(args.out, args.images)
    mp = _megapixels(files[0])
    cuda = _cuda_available()
    devices = ["cpu"] + (["cuda"] if cuda and args.device != "cpu" else [])
    if args.device == "cuda":
        devices = ["cuda"]
    mb = sum(f.stat().st_size for f in files) / len(files) / 1e6
    print(f"{len(files)} JPEGs of {mp:.1f} MP ({mb:.1f} MB each); {args.repeats} runs; "
          f"CPU runs pinned to {CPU_CORES} cores; "
          f"{datetime.now(UTC):%Y-%m-%d}")
    rows = []
    for device in devices:
        naive = _run_child("naive", files[:args.naive_images], args.repeats, device)
        fast = _run_child("pipeline", files, args.repeats, device)
        rows += [naive, fast]
        ratio = fast["images_per_s"] / naive["images_per_s"]
        print(f"\n[{device}] {'variant':12s}{'images/s':>10s}{'peak RSS':>11s}"
              f"{'CPU ms/img':>12s}  runs")
        for r in (naive, fast):
            print(f"[{device}] {r['variant']:12s}{r['images_per_s']:10.2f}"
                  f"{r['peak_rss_mb']:9.0f}MB{r['cpu_ms_per_image']:12.1f}  {r['runs']}")
        print(f"[{device}] pipeline / naive = {ratio:.1f}x")
        if device == "cpu":  # the machine may be shared: what the CPU cost allows on 2 cores
            print(f"[cpu] CPU-bound ceiling on {CPU_CORES} idle cores: "
                  f"{CPU_CORES * 1000 / fast['cpu_ms_per_image']:.1f} images/s "
                  f"(load average now {os.getloadavg()[0]:.1f})")
        if device == "cuda":
            ceiling = _run_child("gpu-decode", files, args.repeats, device)
            rows.append(ceiling)
            print(f"[cuda] gpu-decode  {ceiling['images_per_s']:10.2f}"
                  f"{ceiling['peak_rss_mb']:9.0f}MB  {ceiling['runs']}")
            print(f"[cuda] pipeline / GPU decode ceiling = "
                  f"{fast['images_per_s'] / ceiling['images_per_s']:.0%}")
    return 0


def _megapixels(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0] * im.size[1] / 1e6


if __name__ == "__main__":
    sys.exit(main())
