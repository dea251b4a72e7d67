"""Benchmarks: `python -m gemroll_dev.bench.<service>` (run by `make bench-<service>`)."""

from __future__ import annotations

import os

from ..stack.config import StackConfig, StackEndpoints, read_env_file


def endpoints() -> StackEndpoints:
    """The running stack: from the environment, else from `.run/stack.env` (exits if none)."""
    external = StackEndpoints.from_env(os.environ)
    if external is not None:
        return external
    env_file = StackConfig.load().env_file
    if not env_file.exists():
        raise SystemExit("the local stack is not running: run `make up` first")
    recorded = StackEndpoints.from_env(read_env_file(env_file))
    if recorded is None:
        raise SystemExit(f"{env_file} lacks the stack endpoints: run `make up` again")
    return recorded
