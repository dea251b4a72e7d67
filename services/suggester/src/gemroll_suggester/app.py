"""The only wiring: `create_app()` builds the FastAPI app; its lifespan connects everything.

    uvicorn --factory gemroll_suggester.app:create_app --port 18083
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from gemroll_common.auth import TokenVerifier, require_configured_auth
from gemroll_common.db import create_pool, migrate
from gemroll_common.db import ping as db_ping
from gemroll_common.http import add_operational_routes, subscribers_assigned
from gemroll_common.kafka import EventPublisher, dead_letter_middleware, make_broker
from gemroll_common.logging import configure_logging, get_logger
from gemroll_common.metrics import SERVICE_INFO, watch_consumer_lag
from gemroll_common.settings import (
    AuthSettings,
    DatabaseSettings,
    IdentitySettings,
    KafkaSettings,
    S3Settings,
)
from gemroll_common.storage import ObjectStore
from gemroll_contracts import Service, utcnow

from . import api, consumers
from .adapters.outbox import OutboxRelay, publisher_send
from .adapters.postgres import PostgresUnitOfWork
from .adapters.storage import S3Storage
from .handlers import Deps
from .planner import Planner
from .ports import Clock
from .settings import SuggesterSettings

SERVICE = "suggester"
VERSION = "0.1.0"
log = get_logger(__name__)


def create_app(
    settings: SuggesterSettings | None = None,
    *,
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    s3: S3Settings | None = None,
    identity: IdentitySettings | None = None,
    auth: AuthSettings | None = None,
    clock: Clock = utcnow,
) -> FastAPI:
    """Explicit settings (tests) or, by default, the environment."""
    settings = settings or SuggesterSettings()
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    s3 = s3 or S3Settings()
    identity = identity or IdentitySettings()
    auth = auth or require_configured_auth(AuthSettings())
    configure_logging(SERVICE, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database, settings.db_schema)
        await migrate(pool, settings.db_schema, "gemroll_suggester")
        store = ObjectStore(s3)
        await store.ensure_bucket()
        broker = make_broker(kafka, Service.suggester, middlewares=(
            dead_letter_middleware(service=Service.suggester, group=settings.consumer_group,
                                   settings=kafka),
        ), log_level=logging.DEBUG)  # per-message access lines only when debugging
        publisher = EventPublisher(broker, kafka, Service.suggester)
        relay = OutboxRelay(pool, settings.db_schema, publisher_send(publisher),
                            settings.outbox_interval_seconds)
        deps = Deps(PostgresUnitOfWork(pool, settings.db_schema, on_outbox=relay.wake),
                    S3Storage(store), settings, clock)
        planner = Planner(deps)
        deps.wake_planner = planner.wake
        subscribers = consumers.register(broker, deps, kafka)
        app.state.deps = deps
        app.state.pool = pool
        app.state.store = store
        app.state.subscribers = subscribers
        app.state.planner = planner
        app.state.relay = relay
        app.state.token_verifier = TokenVerifier(auth, identity)
        await broker.start()
        tasks = [
            asyncio.create_task(planner.run(), name="suggester-planner"),
            asyncio.create_task(relay.run(), name="suggester-outbox"),
            asyncio.create_task(watch_consumer_lag(SERVICE, subscribers), name="suggester-lag"),
        ]
        SERVICE_INFO.labels(SERVICE, VERSION).set(1)
        log.info("suggester_started", schema=settings.db_schema,
                 quiet_seconds=settings.quiet_seconds)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await relay.drain()  # hand over what is committed before the broker stops
            await broker.stop()
            await pool.close()

    app = FastAPI(
        title="gemroll suggester",
        version=VERSION,
        description="Edits, highlights and collages made from a user's gems; the owner reads "
        "them and saves, shares, applies or dismisses them.",
        lifespan=lifespan,
    )
    api.install(app)

    async def database_ready() -> bool:
        return await db_ping(app.state.pool)

    async def storage_ready() -> bool:
        return await app.state.store.ping()

    async def consumers_ready() -> bool:
        return await subscribers_assigned(app.state.subscribers)()

    add_operational_routes(app, SERVICE, {
        "database": database_ready, "storage": storage_ready, "consumers": consumers_ready,
    })
    return app
