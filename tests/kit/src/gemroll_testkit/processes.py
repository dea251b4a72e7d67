"""A service (or any local server) as a subprocess: its own process group, its output
appended to a log that survives restarts, SIGKILL or a graceful stop, RSS, and a wait until
its readiness endpoint answers 200."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

READY_TIMEOUT_S = 240.0
CONFIG_PREFIXES = ("GEMROLL_", "KAFKA_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_argv(service: str, port: int, *extra: str) -> list[str]:
    """`uvicorn --factory gemroll_<service>.app:create_app` on 127.0.0.1:`port`."""
    return [sys.executable, "-m", "uvicorn", "--factory", f"gemroll_{service}.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", *extra]


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: Mapping[str, str]
    """Added to this process's environment."""
    log: Path
    cwd: Path | None = None
    argv: list[str] = field(default_factory=list)
    """Default: the service `gemroll_<name>` under uvicorn (`uvicorn_argv`)."""
    ready_path: str = "/readyz"
    inherit_config: bool = True
    """False: this process's GEMROLL_* and KAFKA_* variables are not passed on, only `env`."""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    crashes: int = 0
    """Exits nobody asked for, restarted by a supervisor (as Kubernetes would)."""
    held: bool = False
    """A fault is being applied: a supervisor leaves it alone."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items()
                     if self.inherit_config or not k.startswith(CONFIG_PREFIXES)}
        return {**inherited, **self.env}

    def start(self) -> None:
        argv = self.argv or uvicorn_argv(self.name, self.port)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n=== start #{self.starts + 1} of {self.name}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                argv, env=self.environment(), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.cwd, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL, the whole process group, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, timeout_s: float = 30.0) -> None:
        """SIGTERM to the process group; SIGKILL after `timeout_s`."""
        stop_all([self], timeout_s)

    def rss_bytes(self) -> int | None:
        pid = self.pid
        if pid is None:
            return None
        try:
            proc = psutil.Process(pid)
            return proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            return None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S, *,
                         supervised: bool = False) -> float:
        """Until `ready_path` answers 200; returns the seconds it took. Fails fast if it exits,
        unless `supervised` (a supervisor restarts it meanwhile)."""
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                exited = self.process is None or self.process.poll() is not None
                if exited and not supervised:
                    code = self.process.returncode if self.process else None
                    raise RuntimeError(f"{self.name} exited ({code}):\n{self.tail()}")
                try:
                    if (await client.get(f"{self.url}{self.ready_path}")).status_code == 200:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > timeout_s:
                    raise RuntimeError(f"{self.name} not ready in {timeout_s:.0f}s:\n{self.tail()}")
                await asyncio.sleep(0.25)

    async def metric(self, name: str) -> float:
        """The sum of every sample of metric `name` (all label sets) on its /metrics."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith((f"{name}{{", f"{name} ")))

    async def healthy(self) -> bool:
        async with httpx.AsyncClient(timeout=3.0) as client:
            try:
                return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False


def stop_all(procs: Iterable[ServiceProcess], timeout_s: float = 30.0) -> None:
    """SIGTERM every running one at once, then wait; SIGKILL what is left after `timeout_s`."""
    running = [p.process for p in procs if p.process is not None and p.process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
