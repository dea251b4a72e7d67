"""PostgreSQL from the Debian packages: a private cluster in the run folder."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from .config import StackConfig, StackError
from .process import ProcessSpec

log = logging.getLogger("gemroll_dev.stack")

SUPERUSER = "postgres"
"""The cluster's superuser role, reachable over the unix socket only (trust)."""
OS_USER = "postgres"
"""The OS user the server runs as when we are root (postgres refuses to run as root)."""


def _as_root() -> bool:
    return os.geteuid() == 0


def data_dir(cfg: StackConfig) -> Path:
    return cfg.data_dir / "postgres"


def socket_dir(cfg: StackConfig) -> Path:
    return cfg.run_dir / "postgres"


def _installed_bin_dirs() -> dict[str, Path]:
    found = {}
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        found[Path(initdb).parent.parent.name] = Path(initdb).parent
    return found


def install() -> None:
    if not _as_root():
        raise StackError("PostgreSQL is not installed: sudo apt-get install -y postgresql")
    log.info("installing PostgreSQL with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}{result.stderr}")


def bin_dir(cfg: StackConfig) -> Path:
    """The server binaries: the version the cluster was made with, else the newest."""
    dirs = _installed_bin_dirs()
    if not dirs and shutil.which("initdb"):
        return Path(shutil.which("initdb") or "").parent
    if not dirs:
        install()
        dirs = _installed_bin_dirs()
        if not dirs:
            raise StackError("apt-get installed postgresql but no initdb found")
    version_file = data_dir(cfg) / "PG_VERSION"
    if version_file.exists():
        version = version_file.read_text().strip()
        if version not in dirs:
            raise StackError(
                f"{data_dir(cfg)} was made by PostgreSQL {version}, "
                f"installed: {sorted(dirs)}; remove the folder to start afresh"
            )
        return dirs[version]
    return dirs[max(dirs, key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])]


def _make_traversable(path: Path) -> None:
    """Let the postgres user reach `path`: add o+x to every ancestor that lacks it."""
    for folder in reversed(path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _hand_over(folder: Path, mode: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(mode)
    if _as_root():
        user = pwd.getpwnam(OS_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
        _make_traversable(folder)


def prepare(cfg: StackConfig) -> None:
    """Install if needed, own the folders, and initdb on first start."""
    bins = bin_dir(cfg)
    data = data_dir(cfg)
    _hand_over(data, 0o700)
    _hand_over(socket_dir(cfg), 0o755)
    if (data / "PG_VERSION").exists():
        return
    for leftover in data.iterdir():  # a failed initdb leaves a partial folder
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    argv = [
        str(bins / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-instructions",
    ]
    if _as_root():
        argv = ["runuser", "-u", OS_USER, "--", *argv]
    log.info("initdb %s", data)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=data)
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout[-3000:]}{result.stderr}")


async def probe(cfg: StackConfig) -> bool:
    import asyncpg

    conn = await asyncpg.connect(
        host=str(socket_dir(cfg)),
        port=cfg.ports.postgres,
        user=SUPERUSER,
        database="postgres",
        timeout=3,
    )
    try:
        return await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


def spec(cfg: StackConfig) -> ProcessSpec:
    data = data_dir(cfg)
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(cfg.ports.postgres),
        "unix_socket_directories": str(socket_dir(cfg)),
        "max_connections": "200",
    }
    argv: list[str] = [str(bin_dir(cfg) / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return ProcessSpec(
        name="postgres",
        argv=tuple(argv),
        ready=lambda: probe(cfg),
        ports=(cfg.ports.postgres,),
        cwd=data,
        prepare=lambda: prepare(cfg),
        user=OS_USER if _as_root() else None,
        stop_signal=signal.SIGINT,  # "fast" shutdown: do not wait for clients to disconnect
        stop_timeout_s=cfg.stop_timeout_s,
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def ensure_database(cfg: StackConfig) -> None:
    """The application role (with its password) and database, created when missing."""
    import asyncpg

    conn = await asyncpg.connect(
        host=str(socket_dir(cfg)),
        port=cfg.ports.postgres,
        user=SUPERUSER,
        database="postgres",
        timeout=10,
    )
    try:
        role, db = cfg.pg_user, cfg.pg_database
        verb = (
            "ALTER"
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            else "CREATE"
        )
        await conn.execute(
            f'{verb} ROLE "{role}" WITH LOGIN CREATEDB PASSWORD {_literal(cfg.pg_password)}'
        )
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db):
            await conn.execute(f'CREATE DATABASE "{db}" OWNER "{role}"')
            log.info("created database %s", db)
    finally:
        await conn.close()
