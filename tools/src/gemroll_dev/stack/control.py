"""up / down / status of the whole stack, and pruning the topics tests left."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from . import kafka, postgres, s3, services
from .config import StackConfig, StackEndpoints, StackError, write_env_file
from .process import ManagedProcess, ProcessSpec, read_pid_file, stop_recorded

log = logging.getLogger("gemroll_dev.stack")

T = TypeVar("T")

INFRASTRUCTURE: tuple[Callable[[StackConfig], ProcessSpec], ...] = (
    kafka.spec,
    postgres.spec,
    s3.spec,
)
INFRASTRUCTURE_NAMES = ("kafka", "postgres", "s3")


@dataclass(frozen=True)
class UpResult:
    endpoints: StackEndpoints
    exports: dict[str, str]
    """Everything written into stack.env."""
    started: tuple[str, ...]
    """Components this call started (not those already running)."""
    external: bool


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    ports: tuple[int, ...]


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a fresh event loop in a worker thread: safe from plain code, sync
    fixtures and running loops alike, and it leaves the caller's event loop settings alone."""
    with ThreadPoolExecutor(1, thread_name_prefix="gemroll-stack") as pool:
        return pool.submit(asyncio.run, coro).result()


async def provision(
    endpoints: StackEndpoints, cfg: StackConfig | None = None, *, timeout_s: float = 30.0
) -> None:
    """Topics and bucket (idempotent); with a local `cfg` also the role and database."""
    steps = [
        kafka.ensure_topics(endpoints.kafka_bootstrap, timeout_s=timeout_s),
        s3.ensure_bucket(endpoints, timeout_s=timeout_s),
    ]
    if cfg is not None:
        steps.append(postgres.ensure_database(cfg))
    await _gather_or_raise(steps)


async def _gather_or_raise(steps: Iterable[Coroutine[Any, Any, Any]]) -> list[Any]:
    results = await asyncio.gather(*steps, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        if len(errors) == 1 and not isinstance(errors[0], StackError):
            raise errors[0]
        raise StackError("\n\n".join(str(e) or repr(e) for e in errors))
    return results


def _managed(cfg: StackConfig, spec: ProcessSpec) -> ManagedProcess:
    return ManagedProcess(spec, cfg.pid_dir, cfg.log_dir)


async def _start(cfg: StackConfig, procs: list[ManagedProcess], started: list[str]) -> None:
    """Start those not running (after checking their ports), then wait until all are ready."""
    to_start = [p for p in procs if not p.is_running()]
    for p in procs:
        if p not in to_start:
            log.info("%s already running pid=%s", p.name, p.record().pid)  # type: ignore[union-attr]
    busy = {p.name: p.busy_ports() for p in to_start}
    if any(busy.values()):
        taken = "; ".join(f"{name}: {ports}" for name, ports in busy.items() if ports)
        raise StackError(
            f"ports on 127.0.0.1 already in use by something else ({taken}); stop it, or pick "
            "other ports (--kafka-port/--postgres-port/--s3-port or GEMROLL_STACK_*_PORT)"
        )
    await _gather_or_raise(
        asyncio.to_thread(p.spec.prepare) for p in to_start if p.spec.prepare is not None
    )
    for p in to_start:
        p.start()
        started.append(p.name)
    await _gather_or_raise(p.wait_ready(cfg.ready_timeout_s) for p in procs)


async def up_async(
    cfg: StackConfig, env: Mapping[str, str] | None = None, *, with_services: bool = True
) -> UpResult:
    """Start (or reuse) Kafka, PostgreSQL and S3, provision them, then the gemroll services
    (unless `with_services` is False: test sessions run the services they need themselves)."""
    env = os.environ if env is None else env
    external = StackEndpoints.from_env(env)
    if external is not None:
        log.info("endpoints given by the environment: starting nothing")
        await provision(external)
        exports = external.as_env()
        write_env_file(cfg.env_file, exports)
        return UpResult(external, exports, (), external=True)

    endpoints = cfg.endpoints()
    started: list[str] = []
    try:
        await _start(cfg, [_managed(cfg, make(cfg)) for make in INFRASTRUCTURE], started)
        await provision(endpoints, cfg)
        specs = [factory(cfg, endpoints) for factory in services.SERVICES] if with_services else []
        clash = {s.name for s in specs} & set(INFRASTRUCTURE_NAMES)
        if clash:
            raise StackError(f"service names clash with the infrastructure: {sorted(clash)}")
        await _start(cfg, [_managed(cfg, s) for s in specs], started)
    except BaseException:
        if started:
            log.error("start failed; stopping what this call started: %s", ", ".join(started))
            await asyncio.to_thread(down, cfg, started)
        raise
    exports = endpoints.as_env()
    for spec in specs:
        exports.update(spec.exports)
    write_env_file(cfg.env_file, exports)
    return UpResult(endpoints, exports, tuple(started), external=False)


def up(
    cfg: StackConfig | None = None,
    env: Mapping[str, str] | None = None,
    *,
    with_services: bool = True,
) -> UpResult:
    """Start (or reuse) the stack, provision it, write stack.env. See `up_async`."""
    return run_sync(up_async(cfg or StackConfig.load(), env, with_services=with_services))


def _recorded_names(cfg: StackConfig) -> list[str]:
    if not cfg.pid_dir.is_dir():
        return []
    return sorted(p.stem for p in cfg.pid_dir.glob("*.pid"))


def down(cfg: StackConfig | None = None, only: Iterable[str] | None = None) -> list[str]:
    """Stop what the pid files in the run folder record (services first, then the
    infrastructure), or only the named components. Returns the names that were running."""
    cfg = cfg or StackConfig.load()
    names = _recorded_names(cfg)
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    infra = [n for n in names if n in INFRASTRUCTURE_NAMES]
    apps = [n for n in names if n not in INFRASTRUCTURE_NAMES]
    stopped: list[str] = []
    for batch in (apps, infra):
        if not batch:
            continue
        with ThreadPoolExecutor(len(batch)) as pool:
            results = pool.map(lambda n: stop_recorded(cfg.pid_dir / f"{n}.pid"), batch)
            stopped += [n for n, was_running in zip(batch, results, strict=True) if was_running]
    return stopped


def prune_topics(
    cfg: StackConfig | None = None,
    env: Mapping[str, str] | None = None,
    *,
    dry_run: bool = False,
) -> list[str]:
    """Delete the isolated test topics on the stack's broker (the environment's, as for `up`)
    that killed test runs left; with `dry_run` only list them. Returns their names."""
    from aiokafka.errors import KafkaError

    external = StackEndpoints.from_env(os.environ if env is None else env)
    bootstrap = (external or (cfg or StackConfig.load()).endpoints()).kafka_bootstrap
    work = kafka.isolated_topics if dry_run else kafka.prune_isolated_topics
    try:
        return run_sync(work(bootstrap))
    except (KafkaError, OSError) as exc:
        raise StackError(f"Kafka at {bootstrap}: {exc!r}") from exc


def status(cfg: StackConfig | None = None) -> list[ComponentStatus]:
    cfg = cfg or StackConfig.load()
    names = list(dict.fromkeys([*INFRASTRUCTURE_NAMES, *_recorded_names(cfg)]))
    out = []
    for name in names:
        rec = read_pid_file(cfg.pid_dir / f"{name}.pid")
        running = rec is not None and rec.alive()
        out.append(
            ComponentStatus(name, rec.pid if rec else None, running, rec.ports if rec else ())
        )
    return out
