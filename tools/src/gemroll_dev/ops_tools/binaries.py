"""promtool, prometheus, kustomize and kubeconform, cached in `.cache/`."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from ._cache import cache_dir, locked

KUSTOMIZE = ("sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1")
KUBECONFORM = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0")
DEBIAN_PACKAGE = "prometheus"


class ToolError(RuntimeError):
    """A tool could not be installed or found."""


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        what: str) -> str:
    """Run `argv`; raise ToolError with its output when it fails."""
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ToolError(f"{what} failed ({' '.join(argv)}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def go_env() -> dict[str, str]:
    """Go builds with the module cache under `.cache/go` (writable, so `rm -rf .cache` works)."""
    cache = cache_dir() / "go"
    return {**os.environ, "GOMODCACHE": str(cache / "mod"), "GOFLAGS": "-modcacherw",
            "GOTOOLCHAIN": "local"}


def _go_tool(name: str, module: str, version: str) -> Path:
    cache = cache_dir()
    binary = cache / "bin" / name
    stamp = cache / "bin" / f".{name}-{version}"
    if binary.is_file() and stamp.is_file():
        return binary
    with locked(f"go-{name}"):
        if binary.is_file() and stamp.is_file():
            return binary
        if shutil.which("go") is None:
            raise ToolError(f"{name} needs Go to build it (go install {module}@{version})")
        (cache / "bin").mkdir(exist_ok=True)
        run(["go", "install", f"{module}@{version}"], cwd=cache,
            env={**go_env(), "GOBIN": str(cache / "bin")}, what=f"building {name}")
        for old in (cache / "bin").glob(f".{name}-*"):
            old.unlink()
        stamp.touch()
    return binary


@functools.cache
def kustomize() -> Path:
    return _go_tool("kustomize", *KUSTOMIZE)


@functools.cache
def kubeconform() -> Path:
    return _go_tool("kubeconform", *KUBECONFORM)


def _prometheus_root() -> Path:
    """Debian's prometheus package, unpacked (not installed) into `.cache/prometheus/`."""
    root = cache_dir() / "prometheus"
    unpacked = root / "usr" / "bin"
    if (unpacked / "promtool").is_file() and (unpacked / "prometheus").is_file():
        return unpacked
    with locked("prometheus"):
        if (unpacked / "promtool").is_file() and (unpacked / "prometheus").is_file():
            return unpacked
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            raise ToolError("promtool needs Debian's apt-get and dpkg-deb (package prometheus)")
        downloads = root / "deb"
        downloads.mkdir(parents=True, exist_ok=True)
        for old in downloads.glob("*.deb"):
            old.unlink()
        try:
            run(["apt-get", "download", DEBIAN_PACKAGE], cwd=downloads, what="apt-get download")
        except ToolError:
            if os.geteuid() != 0:
                raise
            # A fresh machine has no package lists yet.
            run(["apt-get", "update"], what="apt-get update")
            run(["apt-get", "download", DEBIAN_PACKAGE], cwd=downloads, what="apt-get download")
        debs = sorted(downloads.glob(f"{DEBIAN_PACKAGE}_*.deb"))
        if not debs:
            raise ToolError(f"apt-get download left no {DEBIAN_PACKAGE}_*.deb in {downloads}")
        run(["dpkg-deb", "-x", str(debs[-1]), str(root)], what="dpkg-deb -x")
    return unpacked


def _system_or_cached(name: str) -> Path:
    system = Path("/usr/bin") / name
    if system.is_file() and os.access(system, os.X_OK):
        return system  # Debian's package is installed: use it
    return _prometheus_root() / name


@functools.cache
def promtool() -> Path:
    return _system_or_cached("promtool")


@functools.cache
def prometheus() -> Path:
    return _system_or_cached("prometheus")
