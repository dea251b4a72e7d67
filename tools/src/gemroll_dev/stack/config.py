"""Where the local stack lives, which ports it uses, and the endpoints it hands out."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gemroll_cli.discovery import read_env_file as read_env_file  # the CLI reads it too

ENV_PREFIX = "GEMROLL_STACK_"
"""Overrides: GEMROLL_STACK_RUN_DIR, _KAFKA_PORT, _POSTGRES_PORT, _S3_PORT, _READY_TIMEOUT."""

EXTERNAL_VARS = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "S3_ENDPOINT")
"""When all of these are set, the stack starts nothing and uses them."""

DEFAULT_BUCKET = "gemroll-media"


class StackError(RuntimeError):
    """The local stack could not be brought up, probed or stopped."""


def find_project_root() -> Path:
    """The repository root: the first folder upward holding `stack/kafka/pom.xml`."""
    if env_root := os.environ.get("GEMROLL_ROOT"):
        return Path(env_root).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "stack" / "kafka" / "pom.xml").is_file():
                return folder
    raise StackError("cannot find the gemroll repository root (no stack/kafka/pom.xml upward)")


@dataclass(frozen=True)
class Ports:
    """Fixed, uncommon ports on 127.0.0.1.

    Kafka uses `kafka` (clients) and `kafka + 1` (KRaft controller); SeaweedFS uses the block
    `s3` .. `s3 + 9` (S3, its gRPC, master, volume, filer and admin, each with a gRPC port).
    """

    kafka: int = 19092
    postgres: int = 15432
    s3: int = 18333

    @property
    def kafka_controller(self) -> int:
        return self.kafka + 1


@dataclass(frozen=True)
class StackConfig:
    root: Path
    run_dir: Path
    ports: Ports = field(default_factory=Ports)
    pg_user: str = "gemroll"
    pg_password: str = "gemroll-dev"
    pg_database: str = "gemroll"
    s3_access_key: str = "gemroll"
    s3_secret_key: str = "gemroll-dev-secret"
    s3_bucket: str = DEFAULT_BUCKET
    ready_timeout_s: float = 90.0
    stop_timeout_s: float = 20.0

    @classmethod
    def load(
        cls,
        *,
        run_dir: Path | str | None = None,
        kafka_port: int | None = None,
        postgres_port: int | None = None,
        s3_port: int | None = None,
        ready_timeout_s: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> StackConfig:
        """Defaults, overridden by GEMROLL_STACK_* variables, overridden by arguments."""
        env = os.environ if env is None else env
        root = find_project_root()

        def pick(value: int | None, name: str, default: int) -> int:
            if value is not None:
                return value
            raw = env.get(ENV_PREFIX + name)
            return int(raw) if raw else default

        defaults = Ports()
        ports = Ports(
            kafka=pick(kafka_port, "KAFKA_PORT", defaults.kafka),
            postgres=pick(postgres_port, "POSTGRES_PORT", defaults.postgres),
            s3=pick(s3_port, "S3_PORT", defaults.s3),
        )
        run = Path(run_dir or env.get(ENV_PREFIX + "RUN_DIR") or root / ".run")
        timeout = ready_timeout_s or float(env.get(ENV_PREFIX + "READY_TIMEOUT") or 90)
        return cls(root=root, run_dir=run.resolve(), ports=ports, ready_timeout_s=timeout)

    # -- layout of the run folder -------------------------------------------------------------
    @property
    def cache_dir(self) -> Path:
        """Downloads shared by every run folder (Kafka jars)."""
        return self.root / ".cache"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def env_file(self) -> Path:
        return self.run_dir / "stack.env"

    def endpoints(self) -> StackEndpoints:
        """The endpoints of the stack this config starts."""
        return StackEndpoints(
            kafka_bootstrap=f"127.0.0.1:{self.ports.kafka}",
            database_url=(
                f"postgresql://{self.pg_user}:{self.pg_password}"
                f"@127.0.0.1:{self.ports.postgres}/{self.pg_database}"
            ),
            s3_endpoint=f"http://127.0.0.1:{self.ports.s3}",
            s3_access_key=self.s3_access_key,
            s3_secret_key=self.s3_secret_key,
            s3_bucket=self.s3_bucket,
        )


@dataclass(frozen=True)
class StackEndpoints:
    """How to reach the stack: what services and tests need."""

    kafka_bootstrap: str
    database_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str = DEFAULT_BUCKET

    def as_env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "DATABASE_URL": self.database_url,
            "S3_ENDPOINT": self.s3_endpoint,
            "S3_ACCESS_KEY": self.s3_access_key,
            "S3_SECRET_KEY": self.s3_secret_key,
            "S3_BUCKET": self.s3_bucket,
        }

    @property
    def s3_host(self) -> str:
        """`host:port` of the S3 endpoint (what the minio client takes)."""
        return urlsplit(self.s3_endpoint).netloc

    @property
    def s3_secure(self) -> bool:
        return urlsplit(self.s3_endpoint).scheme == "https"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StackEndpoints | None:
        """Endpoints given from outside, or None when not all of EXTERNAL_VARS are set."""
        if not all(env.get(name) for name in EXTERNAL_VARS):
            return None
        missing = [k for k in ("S3_ACCESS_KEY", "S3_SECRET_KEY") if not env.get(k)]
        if missing:
            raise StackError(f"S3_ENDPOINT is set but {', '.join(missing)} is not")
        return cls(
            kafka_bootstrap=env["KAFKA_BOOTSTRAP_SERVERS"],
            database_url=env["DATABASE_URL"],
            s3_endpoint=env["S3_ENDPOINT"],
            s3_access_key=env["S3_ACCESS_KEY"],
            s3_secret_key=env["S3_SECRET_KEY"],
            s3_bucket=env.get("S3_BUCKET") or DEFAULT_BUCKET,
        )


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write `KEY=value` lines atomically, readable by the owner only (it holds dev secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    tmp.chmod(0o600)
    tmp.replace(path)
