"""The four services as real uvicorn processes on isolated topics and schemas.

Each service writes its structured JSON logs to `<logs>/<name>.log` (kept across restarts, so
the privacy scan sees every line); `kill_and_restart` sends SIGKILL to its process group and
starts it again on the same port (see `gemroll_testkit.processes`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.settings import AuthSettings, DatabaseSettings, KafkaSettings, S3Settings
from gemroll_contracts import ALL_TOPICS, Topic
from gemroll_dev.stack.config import StackEndpoints, find_project_root
from gemroll_dev.stack.kafka import ensure_topics
from pydantic import SecretStr

from ..isolation import Isolated, isolated
from ..processes import READY_TIMEOUT_S, ServiceProcess, free_port, stop_all

SERVICES = ("ingest", "classifier", "suggester", "policy")


@dataclass(frozen=True)
class Secrets:
    """Distinctive secrets, so a leak is found by a plain substring search."""

    jwt: str = field(default_factory=lambda: f"jwtsecret-{secrets.token_hex(16)}")
    user_key: str = field(default_factory=lambda: f"userkeysecret-{secrets.token_hex(16)}")
    pseudonym: str = field(default_factory=lambda: f"pseudosecret-{secrets.token_hex(16)}")


@dataclass(frozen=True)
class PipelineConfig:
    """Where the pipeline runs and how each service is tuned for a test or soak run."""

    endpoints: StackEndpoints
    logs: Path
    unique: str = field(default_factory=lambda: secrets.token_hex(4))
    secrets: Secrets = field(default_factory=Secrets)
    quiet_seconds: float = 2.0
    classifier_threads: int = 2
    classifier_batch_max: int = 16
    services: tuple[str, ...] = SERVICES

    @property
    def suffix(self) -> str:
        return f".r{self.unique}"

    @property
    def schema_suffix(self) -> str:
        return f"_r{self.unique}"

    def schema(self, service: str) -> str:
        return f"{service}{self.schema_suffix}"

    @property
    def auth(self) -> AuthSettings:
        return AuthSettings(hs256_secret=SecretStr(self.secrets.jwt))

    def token(self, account: str, ttl_seconds: int = 6 * 3600) -> str:
        return issue_dev_token(account, self.auth, ttl_seconds)

    def user_key(self, account: str) -> str:
        return user_key(account, self.secrets.user_key)

    @property
    def isolated(self) -> Isolated:
        return isolated(self.endpoints, suffix=self.suffix, schema_suffix=self.schema_suffix)

    @property
    def kafka(self) -> KafkaSettings:
        return self.isolated.kafka

    @property
    def database(self) -> DatabaseSettings:
        return self.isolated.database

    @property
    def s3(self) -> S3Settings:
        return self.isolated.s3

    def topic(self, topic: Topic) -> str:
        return self.isolated.topic(topic)

    def env(self, service: str) -> dict[str, str]:
        common = {
            **self.isolated.as_env(),
            "GEMROLL_AUTH_HS256_SECRET": self.secrets.jwt,
            "GEMROLL_USER_KEY_SECRET": self.secrets.user_key,
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": "1",
        }
        own: dict[str, dict[str, str]] = {
            "ingest": {
                "GEMROLL_INGEST_DB_SCHEMA": self.schema("ingest"),
                "GEMROLL_INGEST_RELAY_IDLE_S": "0.2",
                "GEMROLL_INGEST_RELAY_MAX_BACKOFF_S": "2",
                "GEMROLL_INGEST_MAX_UPLOAD_BYTES": str(8 * 1024 * 1024),
            },
            "classifier": {
                "GEMROLL_CLASSIFIER_DB_SCHEMA": self.schema("classifier"),
                "GEMROLL_CLASSIFIER_DEVICE": "cpu",
                "GEMROLL_CLASSIFIER_THREADS": str(self.classifier_threads),
                "GEMROLL_CLASSIFIER_BATCH_MAX": str(self.classifier_batch_max),
                "GEMROLL_CLASSIFIER_FETCH_BACKOFF_S": "0.5",
            },
            "suggester": {
                "GEMROLL_SUGGESTER_DB_SCHEMA": self.schema("suggester"),
                "GEMROLL_SUGGESTER_QUIET_SECONDS": str(self.quiet_seconds),
                "GEMROLL_SUGGESTER_PLANNER_INTERVAL_SECONDS": "0.5",
                "GEMROLL_SUGGESTER_RENDER_CONCURRENCY": "1",
                # A killed planner's events wait out its lease (300 s by default, see
                # notes/bugs.md); shorter here so a test run drains in seconds.
                "GEMROLL_SUGGESTER_PLANNER_LEASE_SECONDS": "20",
            },
            "policy": {
                "GEMROLL_POLICY_DB_SCHEMA": self.schema("policy"),
                "GEMROLL_POLICY_PSEUDONYM_SECRET": self.secrets.pseudonym,
                "GEMROLL_POLICY_DB_RETRY_MAX_S": "1",
            },
        }
        return {**common, **own[service]}


@dataclass
class Pipeline:
    """The running services and the settings to reach their topics and stores."""

    config: PipelineConfig
    procs: dict[str, ServiceProcess]
    builds: dict[str, dict[str, str]] = field(default_factory=dict)
    """Other builds a service can be rolled to: name -> the environment it adds (for example
    a PYTHONPATH that puts another version of a package first)."""
    build_of: dict[str, str | None] = field(default_factory=dict)
    """The build each service runs now (None or absent: the tree's own)."""

    def url(self, name: str) -> str:
        return self.procs[name].url

    async def kill_and_restart(self, name: str, *, wait_ready: bool = True) -> float:
        """SIGKILL `name` and start it again at once (as a Kubernetes restart would);
        with `wait_ready`, until it is ready. Returns the seconds it took."""
        began = time.monotonic()
        proc = self.procs[name]
        proc.held = True
        try:
            await asyncio.to_thread(proc.kill)
            proc.start()
        finally:
            proc.held = False
        if wait_ready:
            await proc.wait_ready()
        return time.monotonic() - began

    async def roll(self, name: str, build: str | None = None, *,
                   grace_s: float = 30.0) -> float:
        """A rolling update of one service: SIGTERM (graceful; SIGKILL after `grace_s`),
        start it as `build` (None: the tree's own) on the same port, wait until ready.
        Returns the seconds it took."""
        overlay = self.builds[build] if build is not None else {}
        began = time.monotonic()
        proc = self.procs[name]
        proc.held = True
        try:
            await asyncio.to_thread(proc.terminate, grace_s)
            proc.env = {**self.config.env(name), **overlay}
            proc.start()
        finally:
            proc.held = False
        self.build_of[name] = build
        await proc.wait_ready(supervised=True)
        return time.monotonic() - began

    async def supervise(self, every_s: float = 0.5) -> None:
        """Restart any service that exited on its own (a crash), like a kubelet; counts them.
        Runs until cancelled."""
        while True:
            for proc in self.procs.values():
                if not proc.held and proc.process is not None and proc.process.poll() is not None:
                    proc.crashes += 1
                    proc.start()
            await asyncio.sleep(every_s)

    def crashes(self) -> dict[str, int]:
        return {n: p.crashes for n, p in self.procs.items()}

    def logs(self) -> dict[str, str]:
        """Each service's whole log (all its restarts)."""
        return {n: p.log.read_text(errors="replace") for n, p in self.procs.items()
                if p.log.exists()}

    async def wait_all_ready(self, timeout_s: float = READY_TIMEOUT_S, *,
                             supervised: bool = False) -> None:
        await asyncio.gather(*(p.wait_ready(timeout_s, supervised=supervised)
                               for p in self.procs.values()))

    def alive(self) -> dict[str, bool]:
        return {n: p.pid is not None for n, p in self.procs.items()}

    def rss(self) -> dict[str, int | None]:
        return {n: p.rss_bytes() for n, p in self.procs.items()}

    def log_paths(self) -> list[Path]:
        return [p.log for p in self.procs.values()]


@asynccontextmanager
async def running_pipeline(config: PipelineConfig) -> AsyncIterator[Pipeline]:
    """Create the isolated topics, start every service, wait until all are ready."""
    await ensure_topics(config.endpoints.kafka_bootstrap, ALL_TOPICS, suffix=config.suffix)
    root = find_project_root()
    procs = {name: ServiceProcess(name, free_port(), config.env(name),
                                  config.logs / f"{name}.log", root)
             for name in config.services}
    pipeline = Pipeline(config, procs)
    try:
        for proc in procs.values():
            proc.start()
        await pipeline.wait_all_ready()
        yield pipeline
    finally:
        await asyncio.to_thread(stop_all, procs.values())
