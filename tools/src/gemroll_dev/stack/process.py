"""Background processes with pid files, log files, readiness probes and group-wide stops.

A `ProcessSpec` says what to run; a `ManagedProcess` runs it inside a run folder:
`<run>/pids/<name>.pid` (JSON: pid, start time, stop signal) and `<run>/logs/<name>.log`.
Each process leads its own session, so `stop` signals the whole process group.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import StackError

log = logging.getLogger("gemroll_dev.stack")

Probe = Callable[[], Awaitable[bool]]
"""One readiness attempt: True when ready; False or an exception when not yet."""

POLL_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    ready: Probe
    ports: tuple[int, ...] = ()
    """Ports the process binds on 127.0.0.1; checked to be free before it starts."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Added to (and overriding) the caller's environment."""
    cwd: Path | None = None
    prepare: Callable[[], None] | None = None
    """Runs before a start (not when already running): download, format, initdb..."""
    user: str | None = None
    """Run as this user through `runuser` (only when we are root)."""
    stop_signal: int = signal.SIGTERM
    stop_timeout_s: float = 20.0
    exports: Mapping[str, str] = field(default_factory=dict)
    """`KEY=value` lines for stack.env, e.g. {"INGEST_URL": "http://127.0.0.1:18081"}."""


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    start_ticks: int
    stop_signal: int
    stop_timeout_s: float
    ports: tuple[int, ...]

    def alive(self) -> bool:
        return _start_ticks(self.pid) == self.start_ticks

    def group_alive(self) -> bool:
        return bool(_group_members(self.pid))


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None for gone/zombie processes."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields


def _start_ticks(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(int(entry.name))
            if fields and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (so it leaves no zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


async def wait_until(
    probe: Probe, *, timeout_s: float, what: str, alive: Callable[[], bool] | None = None
) -> None:
    """Poll `probe` every POLL_INTERVAL_S until it returns True; raise StackError on timeout
    or as soon as `alive()` says the process behind it has died. A probe raising StackError
    fails at once; any other exception means "not yet"."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            if await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_S):
                return
        except StackError:
            raise
        except Exception as exc:  # not ready yet
            last_error = exc
        if alive is not None and not alive():
            raise StackError(f"{what} exited before it became ready")
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise StackError(f"{what} not ready after {timeout_s:.0f}s{detail}")
        await asyncio.sleep(POLL_INTERVAL_S)


class ManagedProcess:
    def __init__(self, spec: ProcessSpec, pid_dir: Path, log_dir: Path) -> None:
        self.spec = spec
        self.pid_file = pid_dir / f"{spec.name}.pid"
        self.log_file = log_dir / f"{spec.name}.log"

    @property
    def name(self) -> str:
        return self.spec.name

    def record(self) -> PidRecord | None:
        return read_pid_file(self.pid_file)

    def is_running(self) -> bool:
        rec = self.record()
        return rec is not None and rec.alive()

    def busy_ports(self) -> list[int]:
        return [p for p in self.spec.ports if not port_free(p)]

    def start(self) -> int:
        spec = self.spec
        argv: tuple[str, ...] = spec.argv
        if spec.user and os.geteuid() == 0:
            argv = ("runuser", "-u", spec.user, "--", *argv)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {spec.name}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},
                start_new_session=True,
            )
        rec = PidRecord(
            name=spec.name,
            pid=proc.pid,
            start_ticks=_start_ticks(proc.pid) or 0,
            stop_signal=int(spec.stop_signal),
            stop_timeout_s=spec.stop_timeout_s,
            ports=spec.ports,
        )
        write_pid_file(self.pid_file, rec)
        log.info("started %s pid=%d log=%s", spec.name, proc.pid, self.log_file)
        return proc.pid

    async def wait_ready(self, timeout_s: float) -> None:
        started = time.monotonic()
        try:
            await wait_until(
                self.spec.ready, timeout_s=timeout_s, what=self.name, alive=self.is_running
            )
        except StackError as exc:
            tail = log_tail(self.log_file)
            raise StackError(f"{exc}\n--- last lines of {self.log_file}:\n{tail}") from None
        log.info("%s ready in %.1fs", self.name, time.monotonic() - started)

    def stop(self) -> bool:
        return stop_recorded(self.pid_file)


def write_pid_file(path: Path, rec: PidRecord) -> None:
    data = {
        "name": rec.name,
        "pid": rec.pid,
        "start_ticks": rec.start_ticks,
        "stop_signal": rec.stop_signal,
        "stop_timeout_s": rec.stop_timeout_s,
        "ports": list(rec.ports),
    }
    path.write_text(json.dumps(data) + "\n")


def read_pid_file(path: Path) -> PidRecord | None:
    try:
        data = json.loads(path.read_text())
        return PidRecord(
            name=data["name"],
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            stop_signal=int(data["stop_signal"]),
            stop_timeout_s=float(data["stop_timeout_s"]),
            ports=tuple(data.get("ports", ())),
        )
    except (FileNotFoundError, ValueError, KeyError):
        return None


def stop_recorded(pid_file: Path) -> bool:
    """Stop the process group recorded in `pid_file` (stop signal, then SIGKILL after its
    timeout) and remove the file. True when something was running."""
    rec = read_pid_file(pid_file)
    if rec is None or not (rec.alive() or rec.group_alive()):
        pid_file.unlink(missing_ok=True)
        if rec is not None:
            _reap(rec.pid)
        return False
    log.info("stopping %s pid=%d", rec.name, rec.pid)
    _signal_group(rec.pid, rec.stop_signal)
    if not _wait_group_gone(rec, rec.stop_timeout_s):
        log.warning("%s did not stop in %.0fs, killing it", rec.name, rec.stop_timeout_s)
        _signal_group(rec.pid, signal.SIGKILL)
        if not _wait_group_gone(rec, 10):
            raise StackError(f"{rec.name} (pid {rec.pid}) survived SIGKILL")
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _wait_group_gone(rec: PidRecord, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        _reap(rec.pid)
        if not rec.alive() and not rec.group_alive():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
