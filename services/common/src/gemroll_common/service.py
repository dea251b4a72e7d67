"""The one service app factory: every service is a FastAPI app whose lifespan opens the same
runtime (database pool with migrations, object store, Kafka broker, publisher, consumers),
hands it to the service's `wire` function, runs the background tasks it registered, and
closes everything in reverse order. A service's `app.py` is its wiring and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from gemroll_contracts import Service

from . import db
from .auth import TokenVerifier, require_configured_auth
from .consumer import Consumers
from .http import ReadinessCheck, add_operational_routes
from .kafka import EventPublisher, make_broker, start_when_reachable
from .logging import configure_logging, get_logger
from .metrics import SERVICE_INFO
from .retry import Backoff, retry_while_transient
from .settings import AuthSettings, DatabaseSettings, IdentitySettings, KafkaSettings, S3Settings
from .storage import ObjectStore

log = get_logger(__name__)

STARTUP = Backoff(0.5, 5.0)
"""How often a starting service tries a dependency that is down."""
VERSION = "0.1.0"


@dataclass(frozen=True)
class ServiceSpec:
    service: Service
    title: str
    description: str
    db_schema: str | None = None
    """The service's PostgreSQL schema; None: no database."""
    migrations: str | None = None
    """The package whose `migrations/` folder holds the schema's SQL migrations."""
    object_store: bool = True
    store_threads: int | None = None
    """Own threads for blocking S3 calls (None: the default executor)."""
    start_without_kafka: bool = False
    """Serve while Kafka is unreachable (the broker keeps connecting in the background)."""
    api_auth: bool = True
    """The API verifies bearer tokens."""
    log_level: str = "INFO"
    version: str = VERSION


@dataclass
class Runtime:
    """What a running service holds; `wire` adds its use cases, tasks and checks to it."""

    spec: ServiceSpec
    kafka: KafkaSettings
    broker: KafkaBroker
    publisher: EventPublisher
    consumers: Consumers
    pool: asyncpg.Pool | None = None
    store: ObjectStore | None = None
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    _tasks: list[tuple[str, Callable[[], Coroutine[Any, Any, Any]]]] = field(
        default_factory=list)
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    def background(self, name: str, run: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run `run()` as a task once wiring is done; cancelled at shutdown."""
        self._tasks.append((name, run))

    def on_close(self, close: Callable[[], Any]) -> None:
        """Call `close()` (sync or async) at shutdown, before the runtime's own resources."""
        self._closers.append(close)

    def ready_when(self, name: str, check: ReadinessCheck) -> None:
        self.checks[name] = check

    def require_pool(self) -> asyncpg.Pool:
        assert self.pool is not None, "the service spec has no database"
        return self.pool

    def require_store(self) -> ObjectStore:
        assert self.store is not None, "the service spec has no object store"
        return self.store


Wire = Callable[[Runtime, FastAPI], Awaitable[None]]


def service_app(
    spec: ServiceSpec, wire: Wire, *, kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None, s3: S3Settings | None = None,
    auth: AuthSettings | None = None, identity: IdentitySettings | None = None,
    routes: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    """The service's app; settings default to the environment. Nothing connects before the
    lifespan starts. Settings read from the environment must configure real authentication
    (or say GEMROLL_ENV=development); settings passed in are the caller's (tests) decision."""
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    s3 = s3 or S3Settings()
    configure_logging(spec.service.value, spec.log_level)
    checks: dict[str, ReadinessCheck] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            runtime = await _open(spec, kafka, database, s3, stack)
            runtime.checks = checks
            app.state.runtime = runtime
            _default_checks(runtime)
            await wire(runtime, app)
            stack.push_async_callback(_close_all, runtime._closers)
            if spec.start_without_kafka:
                runtime.background("kafka-connect", lambda: start_when_reachable(runtime.broker))
            else:
                await runtime.broker.start()
            if runtime.consumers.subscribers:
                runtime.background("consumer-lag", runtime.consumers.watch_lag)
            tasks = [asyncio.create_task(run(), name=name) for name, run in runtime._tasks]
            stack.push_async_callback(_cancel, tasks)
            SERVICE_INFO.labels(spec.service.value, spec.version).set(1)
            log.info("service_started", service=spec.service.value, schema=spec.db_schema)
            yield

    app = FastAPI(title=spec.title, version=spec.version, description=spec.description,
                  lifespan=lifespan)
    if spec.api_auth:
        verified = auth if auth is not None else require_configured_auth(AuthSettings())
        app.state.token_verifier = TokenVerifier(verified, identity or IdentitySettings())
    if routes is not None:
        routes(app)
    add_operational_routes(app, spec.service.value, checks)
    return app


async def _open(spec: ServiceSpec, kafka: KafkaSettings, database: DatabaseSettings,
                s3: S3Settings, stack: contextlib.AsyncExitStack) -> Runtime:
    pool = store = None
    if spec.db_schema is not None:
        # A dependency that is down at start is waited for (not a crash loop, whose back-off
        # would delay the recovery long after the dependency is back).
        pool = await retry_while_transient(lambda: db.create_pool(database, spec.db_schema),
                                           what="connect to the database", backoff=STARTUP)
        stack.push_async_callback(pool.close)
        if spec.migrations:
            await retry_while_transient(
                lambda: db.migrate(pool, spec.db_schema, spec.migrations),
                what="migrate the database", backoff=STARTUP)
    if spec.object_store:
        store = ObjectStore(s3, threads=spec.store_threads)
        stack.callback(store.close)
        await retry_while_transient(store.ensure_bucket, what="reach the object store",
                                    backoff=STARTUP)
    # FastStream's per-message access lines only when debugging.
    broker = make_broker(kafka, spec.service, log_level=logging.DEBUG)
    stack.push_async_callback(_stop_broker, broker)
    publisher = EventPublisher(broker, kafka, spec.service)
    consumers = Consumers(broker, kafka, spec.service, publisher=publisher)
    return Runtime(spec=spec, kafka=kafka, broker=broker, publisher=publisher,
                   consumers=consumers, pool=pool, store=store)


def _default_checks(runtime: Runtime) -> None:
    if runtime.pool is not None:
        pool = runtime.pool
        runtime.ready_when("database", lambda: db.ping(pool))
    if runtime.store is not None:
        runtime.ready_when("object_store", runtime.require_store().ping)
    runtime.ready_when("kafka", runtime.consumers.ready)


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_all(closers: list[Callable[[], Any]]) -> None:
    for close in reversed(closers):
        with contextlib.suppress(Exception):
            result = close()
            if inspect.isawaitable(result):
                await result


async def _stop_broker(broker: KafkaBroker) -> None:
    with contextlib.suppress(Exception):
        await broker.stop()


__all__ = ["Runtime", "ServiceSpec", "Wire", "service_app"]
