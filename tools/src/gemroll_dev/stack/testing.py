"""Test support: reuse, or start and later stop, the local stack for a test session."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from . import kafka, s3
from .config import StackConfig, StackEndpoints, read_env_file
from .control import down, provision, run_sync, up

log = logging.getLogger("gemroll_dev.stack")


async def answers(endpoints: StackEndpoints, timeout_s: float = 5.0) -> bool:
    """One quick probe of each endpoint; True only when all three answer."""
    import asyncpg

    async def database() -> bool:
        conn = await asyncpg.connect(endpoints.database_url, timeout=timeout_s)
        try:
            return await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()

    probes = (kafka.probe(endpoints.kafka_bootstrap), database(), s3.probe(endpoints))
    results = await asyncio.gather(
        *(asyncio.wait_for(p, timeout_s) for p in probes), return_exceptions=True
    )
    return all(r is True for r in results)


@contextmanager
def session_stack(env: Mapping[str, str] | None = None) -> Iterator[StackEndpoints]:
    """Endpoints for tests, in this order of preference:

    1. KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, S3_ENDPOINT (+ keys) from the environment;
    2. the stack described by `<run>/stack.env`, when it answers;
    3. a stack started here and stopped on exit (only the components started here).

    Topics and bucket are ensured in every case.
    """
    env = os.environ if env is None else env
    external = StackEndpoints.from_env(env)
    if external is not None:
        run_sync(provision(external))
        yield external
        return
    cfg = StackConfig.load(env=env)
    if cfg.env_file.exists():
        recorded = StackEndpoints.from_env(read_env_file(cfg.env_file))
        if recorded is not None and run_sync(answers(recorded)):
            log.info("reusing the running stack from %s", cfg.env_file)
            run_sync(provision(recorded))
            yield recorded
            return
    result = up(cfg, env={}, with_services=False)
    try:
        yield result.endpoints
    finally:
        if result.started:
            down(cfg, only=result.started)
