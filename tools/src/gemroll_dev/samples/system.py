"""What the builder needs from the machine: Debian packages (installed when missing), the
real photo files inside installed packages, and the cache directory."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from .catalog import RealPhoto

log = logging.getLogger("gemroll_dev.samples")

# Python distribution -> importable package that holds its data files.
_PYTHON_MODULES = {"scikit-image": "skimage", "scikit-learn": "sklearn",
                   "matplotlib": "matplotlib"}
_apt_updated = False


class SamplesError(RuntimeError):
    """The sample roll cannot be built on this machine (with the reason and the fix)."""


def cache_root() -> Path:
    """`GEMROLL_SAMPLES_CACHE`, else `.cache/samples` in the repository, else ~/.cache."""
    if env := os.environ.get("GEMROLL_SAMPLES_CACHE"):
        return Path(env)
    repo = Path(__file__).resolve().parents[4]
    if (repo / "pyproject.toml").exists() and (repo / "tools").is_dir():
        return repo / ".cache" / "samples"
    return Path.home() / ".cache" / "gemroll" / "samples"


def photo_path(photo: RealPhoto) -> Path:
    """The shipped file of a real photo (no download: it is inside an installed package)."""
    if photo.kind == "debian":
        return Path(photo.path)
    module = _PYTHON_MODULES[photo.package]
    spec = importlib.util.find_spec(module)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SamplesError(f"Python package {photo.package} is not installed; run "
                           "`uv sync --all-packages` (it is a dependency of gemroll-dev)")
    return Path(next(iter(spec.submodule_search_locations))) / photo.path


def source_ref_path(photo: RealPhoto) -> str:
    if photo.kind == "debian":
        return photo.path
    return f"{_PYTHON_MODULES[photo.package]}/{photo.path}"


def ensure_debian_packages(needs: Iterable[tuple[str, str]]) -> list[str]:
    """Install each Debian package whose probe (an absolute file, or a command name) is
    missing; returns the packages installed. Runs `apt-get update` once per process."""
    global _apt_updated
    missing = sorted({package for package, probe in needs if not _present(probe)})
    if not missing:
        return []
    if shutil.which("apt-get") is None:
        raise SamplesError(f"missing {', '.join(missing)} and this is not a Debian-like "
                           "machine: install them by hand")
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo"):
        prefix = ["sudo", "-n"]
    else:
        raise SamplesError(f"missing Debian packages {', '.join(missing)}: run "
                           f"`apt-get install -y --no-install-recommends {' '.join(missing)}`"
                           " as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    log.warning("installing Debian packages: %s", " ".join(missing))
    if not _apt_updated:
        _run([*prefix, "apt-get", *lock, "update", "-qq"], env)
        _apt_updated = True
    _run([*prefix, "apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends",
          *missing], env)
    still = sorted({package for package, probe in needs if not _present(probe)})
    if still:
        raise SamplesError(f"apt-get installed {missing} but {still} are still missing")
    return missing


def _present(probe: str) -> bool:
    return Path(probe).exists() if probe.startswith("/") else shutil.which(probe) is not None


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-800:]
        raise SamplesError(f"`{' '.join(command)}` failed ({result.returncode}): {tail}")
