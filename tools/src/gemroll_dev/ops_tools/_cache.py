"""Where the ops tools live, and a lock so parallel test runs install each tool once."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from ..stack.config import find_project_root


def cache_dir() -> Path:
    path = find_project_root() / ".cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(name: str) -> Iterator[Path]:
    """Hold `.cache/<name>.lock` exclusively (blocks while another process installs)."""
    lock_path = cache_dir() / f"{name}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield cache_dir()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
