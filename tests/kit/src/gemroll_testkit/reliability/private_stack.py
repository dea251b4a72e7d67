"""A second, private stack (Kafka, PostgreSQL, S3) on free ports in its own run folder.

Fault tests stop and start its parts; the shared stack in `.run/` is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import secrets
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from gemroll_dev.stack import kafka, postgres, s3
from gemroll_dev.stack.config import StackConfig, StackEndpoints, StackError
from gemroll_dev.stack.control import down, provision
from gemroll_dev.stack.process import ManagedProcess, port_free

COMPONENTS = ("kafka", "postgres", "s3")
S3_PORT_BLOCK = 10


def ephemeral_ports() -> range:
    """The kernel's local ports for outgoing connections. A server port in this range can be
    taken while the server is down: a client reconnecting to it gets that very port as its
    own and connects to itself (TCP self-connect), and the server cannot bind on restart."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def _free_block(size: int, used: set[int], low: int = 20000, high: int = 65000) -> int:
    """The first port of `size` consecutive free ports (not in `used`), outside the
    ephemeral range."""
    rng = random.Random()
    ephemeral = ephemeral_ports()
    for _ in range(500):
        base = rng.randrange(low, high - size)
        block = range(base, base + size)
        if base + size > ephemeral.start and base < ephemeral.stop:
            continue
        if not used.intersection(block) and all(port_free(p) for p in block):
            used.update(block)
            return base
    raise StackError(f"no block of {size} free ports found")


def free_ports() -> tuple[int, int, int]:
    """Kafka (2 ports), PostgreSQL (1), S3 (a block of 10)."""
    used: set[int] = set()
    return _free_block(2, used), _free_block(1, used), _free_block(S3_PORT_BLOCK, used)


@dataclass
class PrivateStack:
    cfg: StackConfig
    processes: dict[str, ManagedProcess]

    @property
    def endpoints(self) -> StackEndpoints:
        return self.cfg.endpoints()

    def running(self, name: str) -> bool:
        return self.processes[name].is_running()

    async def stop(self, name: str) -> None:
        """Stop one component (its own stop signal; SIGKILL after its timeout)."""
        await asyncio.to_thread(self.processes[name].stop)

    async def start(self, name: str) -> float:
        """Start one component again and wait until it answers; returns the seconds it took."""
        started = time.monotonic()
        proc = self.processes[name]
        await _prepare(proc)
        proc.start()
        await proc.wait_ready(self.cfg.ready_timeout_s)
        return time.monotonic() - started

    async def outage(self, name: str, seconds: float) -> float:
        """Stop `name`, keep it down `seconds`, start it again; returns the total outage."""
        began = time.monotonic()
        await self.stop(name)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        await self.start(name)
        return time.monotonic() - began

    async def crash(self, name: str, down_s: float = 0.0) -> float:
        """SIGKILL the whole process group of `name` (a node dying: no shutdown, no
        checkpoint; PostgreSQL replays its WAL on the next start, as after a failover), keep it
        down `down_s`, start it again; returns the total outage."""
        began = time.monotonic()
        await asyncio.to_thread(self._kill_group, name)
        await asyncio.sleep(max(0.0, down_s - (time.monotonic() - began)))
        await self.start(name)
        return time.monotonic() - began

    def _kill_group(self, name: str, timeout_s: float = 30.0) -> None:
        proc = self.processes[name]
        record = proc.record()
        if record is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while record.alive() or record.group_alive():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(record.pid, os.WNOHANG)
            if time.monotonic() > deadline:
                raise StackError(f"{name} (pid {record.pid}) survived SIGKILL")
            time.sleep(0.05)
        proc.pid_file.unlink(missing_ok=True)

    async def cut_connections(self, *, bursts: int = 5, gap_s: float = 1.0) -> Counter[str]:
        """`pg_terminate_backend` on every client connection to the application database
        (the services' pools, mid-query or mid-transaction), `bursts` times `gap_s` apart.
        Returns how many were cut, by the state they were in."""
        import asyncpg

        cut: Counter[str] = Counter()
        conn = await asyncpg.connect(host=str(postgres.socket_dir(self.cfg)),
                                     port=self.cfg.ports.postgres, user=postgres.SUPERUSER,
                                     database="postgres", timeout=10)
        try:
            for burst in range(bursts):
                rows = await conn.fetch(
                    "SELECT coalesce(state, 'unknown') AS state, pg_terminate_backend(pid) AS ok"
                    " FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' AND datname = $1",
                    self.cfg.pg_database)
                cut.update(r["state"] for r in rows if r["ok"])
                if burst < bursts - 1:
                    await asyncio.sleep(gap_s)
        finally:
            await conn.close()
        return cut


async def _prepare(proc: ManagedProcess, attempts: int = 3) -> None:
    """Run the spec's prepare step, retried: Kafka's storage format fails when the random
    cluster id happens to start with '-' (read as an option; see notes/bugs.md)."""
    if proc.spec.prepare is None:
        return
    for attempt in range(1, attempts + 1):
        try:
            await asyncio.to_thread(proc.spec.prepare)
            return
        except StackError:
            if attempt == attempts:
                raise


@asynccontextmanager
async def private_stack(run_dir: Path, *, ready_timeout_s: float = 180.0
                        ) -> AsyncIterator[PrivateStack]:
    """Start Kafka, PostgreSQL and S3 on free ports under `run_dir`; stop all of it on exit."""
    kafka_port, pg_port, s3_port = free_ports()
    cfg = StackConfig.load(run_dir=run_dir, kafka_port=kafka_port, postgres_port=pg_port,
                           s3_port=s3_port, ready_timeout_s=ready_timeout_s, env={})
    # Distinctive secrets: the privacy checks look for them in logs and topics.
    cfg = dataclasses.replace(cfg, pg_password=f"pgpassword-{secrets.token_hex(12)}",
                              s3_secret_key=f"s3secretkey-{secrets.token_hex(12)}")
    procs = {name: ManagedProcess(make(cfg), cfg.pid_dir, cfg.log_dir)
             for name, make in (("kafka", kafka.spec), ("postgres", postgres.spec),
                                ("s3", s3.spec))}
    stack = PrivateStack(cfg, procs)
    try:
        for proc in procs.values():
            await _prepare(proc)
            proc.start()
        await asyncio.gather(*(p.wait_ready(cfg.ready_timeout_s) for p in procs.values()))
        await provision(cfg.endpoints(), cfg)
        yield stack
    finally:
        await asyncio.to_thread(down, cfg, COMPONENTS)
