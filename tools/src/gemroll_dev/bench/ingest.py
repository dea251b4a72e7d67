"""Ingest benchmark: `python -m gemroll_dev.bench.ingest` (what `make bench-ingest` runs).

Against the running local stack (`make up`), in one run:

1. Throughput: 8 concurrent clients upload distinct ~3 MB JPEGs through the ingest service
   (uvicorn in a subprocess, its own schema and topics) vs the same files put straight into S3
   by 8 threads. Several rounds, alternating; medians of uploads/s, MB/s, p50/p99 latency and
   the ratio service / raw S3.
2. Memory: the service's peak RSS (VmHWM in /proc/<pid>/status, reset before the phase where
   the kernel allows) while uploading a few ~48 MB high-entropy JPEGs concurrently.

Everything it creates (objects, schema, topics) is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import httpx
from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.settings import AuthSettings, IdentitySettings
from gemroll_contracts import ALL_TOPICS
from gemroll_testkit import photos
from gemroll_testkit.processes import ServiceProcess, free_port, uvicorn_argv

from ..stack.config import StackEndpoints
from ..stack.kafka import delete_topics, ensure_topics
from ..stack.s3 import client as s3_client
from ..stack.testing import session_stack

MB = 1_000_000


@dataclass(frozen=True)
class RunStats:
    files: int
    total_bytes: int
    wall_s: float
    latencies_s: list[float]
    machine_busy: float = 0.0
    """Share of all CPUs busy during the run (everything on the machine)."""
    service_cpu_s: float = 0.0
    """CPU seconds the ingest process used during the run."""

    @property
    def uploads_per_s(self) -> float:
        return self.files / self.wall_s

    @property
    def mb_per_s(self) -> float:
        return self.total_bytes / MB / self.wall_s

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def process_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_meter(pid: int | None = None) -> Iterator[dict[str, float]]:
    busy0, total0 = machine_cpu()
    proc0 = process_cpu_s(pid)
    result: dict[str, float] = {}
    yield result
    busy1, total1 = machine_cpu()
    result["machine_busy"] = (busy1 - busy0) / max(1, total1 - total0)
    result["service_cpu_s"] = process_cpu_s(pid) - proc0


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM (Linux: write 5 to clear_refs); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def ingest_process(stack: StackEndpoints, schema: str, suffix: str,
                   log_path: Path) -> Iterator[ServiceProcess]:
    port = free_port()
    env = {**stack.as_env(), "PYTHONUNBUFFERED": "1", "GEMROLL_ENV": "development",
           "KAFKA_TOPIC_SUFFIX": suffix, "GEMROLL_INGEST_DB_SCHEMA": schema}
    process = ServiceProcess("ingest", port, env, log_path,
                             argv=uvicorn_argv("ingest", port, "--log-level", "warning"))
    process.start()
    try:
        yield process
    finally:
        process.terminate(20)


async def grant_consent(database_url: str, schema: str, keys: list[str]) -> None:
    """The projection a ConsentChanged(camera_roll=true) would produce (the bench measures
    uploads, not the consent flow)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.executemany(
            f"INSERT INTO {schema}.consent (user_key, camera_roll, training_opt_out, ledger_seq,"
            " changed_at) VALUES ($1, true, false, 1, now()) ON CONFLICT DO NOTHING",
            [(k,) for k in keys])
    finally:
        await conn.close()


async def upload_all(url: str, token: str, files: list[bytes], concurrency: int) -> RunStats:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for data in files:
        queue.put_nowait(data)
    latencies: list[float] = []

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=120, headers={
                "Authorization": f"Bearer {token}"}) as client:
            while not queue.empty():
                data = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(f"{url}/v1/media",
                                             files={"file": ("photo.jpg", data, "image/jpeg")})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"upload failed: {response.status_code} {response.text}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return RunStats(len(files), sum(map(len, files)), wall, latencies)


def put_all_raw(stack: StackEndpoints, prefix: str, files: list[bytes], concurrency: int
                ) -> RunStats:
    minio = s3_client(stack)
    latencies: list[float] = []
    lock = threading.Lock()

    def put(index: int) -> None:
        data = files[index]
        started = time.perf_counter()
        minio.put_object(stack.s3_bucket, f"{prefix}{index}", io.BytesIO(data), len(data),
                         content_type="image/jpeg")
        with lock:
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(put, range(len(files))))
    wall = time.perf_counter() - started
    return RunStats(len(files), sum(map(len, files)), wall, latencies)


def median_of(runs: list[RunStats], metric: Callable[[RunStats], float]) -> float:
    return statistics.median(metric(r) for r in runs)


def report(raw: list[RunStats], service: list[RunStats]) -> None:
    rows = [
        ("uploads/s", lambda r: r.uploads_per_s, "{:8.1f}"),
        ("MB/s", lambda r: r.mb_per_s, "{:8.1f}"),
        ("p50 ms", lambda r: r.percentile(0.5) * 1000, "{:8.0f}"),
        ("p99 ms", lambda r: r.percentile(0.99) * 1000, "{:8.0f}"),
    ]
    print(f"\n{'median of ' + str(len(raw)) + ' rounds':<22}{'raw S3':>10}{'ingest':>10}"
          f"{'ratio':>8}")
    for name, metric, fmt in rows:
        a, b = median_of(raw, metric), median_of(service, metric)
        print(f"{name:<22}{fmt.format(a):>10}{fmt.format(b):>10}{b / a:>8.2f}")
    print(f"{'machine CPU busy':<22}{median_of(raw, lambda r: r.machine_busy):>10.0%}"
          f"{median_of(service, lambda r: r.machine_busy):>10.0%}   ({os.cpu_count()} CPUs, "
          "shared with the stack and this client)")
    per_upload = median_of(service, lambda r: r.service_cpu_s / r.files) * 1000
    print(f"ingest process CPU per 3 MB upload: {per_upload:.0f} ms")
    ratios = [s.mb_per_s / r.mb_per_s for r, s in zip(raw, service, strict=True)]
    print(f"throughput ratio per round: {', '.join(f'{x:.2f}' for x in ratios)} "
          f"(median {statistics.median(ratios):.2f}; aim >= 0.70)")


@contextlib.asynccontextmanager
async def bench_topics(bootstrap: str, suffix: str) -> AsyncIterator[None]:
    await ensure_topics(bootstrap, ALL_TOPICS, suffix=suffix)
    try:
        yield
    finally:
        await delete_topics(bootstrap, [t.name + suffix for t in ALL_TOPICS])


async def main(rounds: int, files_per_round: int, concurrency: int, large_files: int,
               large_mb: int) -> None:
    with session_stack() as stack:  # reused when running, else started and stopped
        run_id = uuid.uuid4().hex[:8]
        schema, suffix = f"ingest_bench_{run_id}", f".bench{run_id}"
        identity, auth = IdentitySettings(), AuthSettings()
        accounts = [f"bench-{run_id}-{i}" for i in range(rounds + 1)]
        keys = [user_key(a, identity.user_key_secret.get_secret_value()) for a in accounts]
        raw_prefix = f"bench/ingest/{run_id}/"
        minio = s3_client(stack)

        print(f"generating {rounds} x {files_per_round} distinct ~3 MB JPEGs and {large_files} "
              f"x ~{large_mb} MB ...", flush=True)
        rounds_files = [[photos.jpeg_of_size(3 * MB) for _ in range(files_per_round)]
                        for _ in range(rounds)]
        large = [photos.jpeg_of_size(large_mb * MB) for _ in range(large_files)]

        log_path = Path(tempfile.gettempdir()) / f"gemroll-bench-ingest-{run_id}.log"
        async with bench_topics(stack.kafka_bootstrap, suffix):
            with ingest_process(stack, schema, suffix, log_path) as ingest:
                process, url = ingest.process, ingest.url
                assert process is not None
                try:
                    await ingest.wait_ready(90)
                    await grant_consent(stack.database_url, schema, keys)
                    # warm-up: connections, imports, JIT-free paths
                    await upload_all(url, issue_dev_token(accounts[-1], auth),
                                     [photos.jpeg_of_size(3 * MB) for _ in range(4)],
                                     concurrency)
                    raw_runs, service_runs = [], []
                    for i, files in enumerate(rounds_files):
                        with cpu_meter() as cpu:
                            raw = await asyncio.to_thread(put_all_raw, stack, f"{raw_prefix}{i}/",
                                                          files, concurrency)
                        raw = replace(raw, **cpu)
                        with cpu_meter(process.pid) as cpu:
                            service = await upload_all(url, issue_dev_token(accounts[i], auth),
                                                       files, concurrency)
                        service = replace(service, **cpu)
                        raw_runs.append(raw)
                        service_runs.append(service)
                        print(f"round {i + 1}: raw S3 {raw.mb_per_s:6.1f} MB/s (CPUs "
                              f"{raw.machine_busy:.0%} busy), ingest {service.mb_per_s:6.1f} MB/s "
                              f"(CPUs {service.machine_busy:.0%} busy, service "
                              f"{service.service_cpu_s / service.files * 1000:.0f} ms CPU/upload)",
                              flush=True)
                    report(raw_runs, service_runs)

                    before = proc_status(process.pid)
                    reset = reset_peak_rss(process.pid)
                    peak = await upload_all(url, issue_dev_token(accounts[-1], auth), large,
                                            len(large))
                    after = proc_status(process.pid)
                    sizes = ", ".join(f"{len(d) / MB:.1f}" for d in large)
                    print(f"\npeak RSS while uploading {len(large)} files of {sizes} MB "
                          f"({len(large)} concurrent, {peak.mb_per_s:.1f} MB/s):")
                    print(f"  VmRSS before {before['VmRSS'] / MB:.0f} MB; VmHWM "
                          f"{'(reset before the phase) ' if reset else '(since start) '}"
                          f"{after['VmHWM'] / MB:.0f} MB (aim < 300 MB)")
                finally:
                    for key in keys:
                        await asyncio.to_thread(_delete_prefix, minio, stack.s3_bucket,
                                                f"users/{key}/")
                    await asyncio.to_thread(_delete_prefix, minio, stack.s3_bucket, raw_prefix)
                    conn = await asyncpg.connect(stack.database_url)
                    try:
                        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                    finally:
                        await conn.close()
        log_path.unlink(missing_ok=True)


def _delete_prefix(minio, bucket: str, prefix: str) -> None:  # noqa: ANN001 - minio.Minio
    from minio.deleteobjects import DeleteObject

    names = [o.object_name for o in minio.list_objects(bucket, prefix=prefix, recursive=True)]
    for error in minio.remove_objects(bucket, (DeleteObject(n) for n in names if n)):
        print(f"warning: could not delete {error.object_name}: {error.message}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=40, help="3 MB files per round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--large-files", type=int, default=4)
    parser.add_argument("--large-mb", type=int, default=48)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.files, args.concurrency, args.large_files, args.large_mb))


if __name__ == "__main__":
    cli()
