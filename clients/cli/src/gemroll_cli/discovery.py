"""Where the services are: a variable from the environment, else from the local stack's
`stack.env` (what `make up` writes into `.run/`), else a default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STACK_ENV = Path(".run") / "stack.env"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse `KEY=value` lines (no quoting, `#` comments)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def find_stack_env(env: Mapping[str, str] | None = None) -> Path | None:
    """The stack's `stack.env`: in GEMROLL_STACK_RUN_DIR, else `.run/` of GEMROLL_ROOT, else
    the first `.run/stack.env` upward from the working folder (then from this package, for
    a checkout's development environment). None when there is none."""
    env = os.environ if env is None else env
    if run_dir := env.get("GEMROLL_STACK_RUN_DIR"):
        candidates = [Path(run_dir) / "stack.env"]
    elif root := env.get("GEMROLL_ROOT"):
        candidates = [Path(root) / STACK_ENV]
    else:
        starts = (Path.cwd().resolve(), Path(__file__).resolve().parent)
        candidates = [folder / STACK_ENV for start in starts for folder in (start, *start.parents)]
    return next((path for path in candidates if path.is_file()), None)


def read_stack_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values in the stack's `stack.env`; empty when there is none."""
    path = find_stack_env(env)
    return read_env_file(path) if path else {}


def stack_value(key: str, default: str, env: Mapping[str, str] | None = None) -> str:
    """`key` from the environment, else from the stack's `stack.env`, else `default`."""
    env = os.environ if env is None else env
    return env.get(key) or read_stack_env(env).get(key) or default
