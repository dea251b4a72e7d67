"""The suggester's wiring: `uvicorn --factory gemroll_suggester.app:create_app --port 18083`."""

from __future__ import annotations

from fastapi import FastAPI
from gemroll_common import settings as common
from gemroll_common.outbox import OutboxRelay, publisher_send
from gemroll_common.service import Runtime, ServiceSpec, service_app
from gemroll_contracts import Service, utcnow

from . import api, consumers, share_api
from .adapters.postgres import PostgresUnitOfWork
from .adapters.storage import S3Storage
from .ports import Clock
from .settings import SuggesterSettings
from .usecases import Deps
from .usecases.planning import Planner


def create_app(
    settings: SuggesterSettings | None = None, *, kafka: common.KafkaSettings | None = None,
    database: common.DatabaseSettings | None = None, s3: common.S3Settings | None = None,
    identity: common.IdentitySettings | None = None, auth: common.AuthSettings | None = None,
    clock: Clock = utcnow,
) -> FastAPI:
    """Explicit settings (tests) or, by default, the environment."""
    settings = settings or SuggesterSettings()
    spec = ServiceSpec(
        Service.suggester, "gemroll suggester", "Edits, highlights and collages made from a "
        "user's gems; the owner reads them and saves, shares, applies or dismisses them.",
        db_schema=settings.db_schema, migrations="gemroll_suggester",
        log_level=settings.log_level)

    async def wire(runtime: Runtime, app: FastAPI) -> None:
        pool = runtime.require_pool()
        relay = OutboxRelay(pool, schema=settings.db_schema, service=Service.suggester.value,
                            send=publisher_send(runtime.publisher),
                            idle_s=settings.outbox_interval_seconds)
        deps = app.state.deps = Deps(
            PostgresUnitOfWork(pool, settings.db_schema, on_outbox=relay.wake),
            S3Storage(runtime.require_store()), settings, clock)
        planner = Planner(deps)
        deps.wake_planner = planner.wake
        consumers.subscribe(runtime.consumers, deps)
        runtime.background("suggester-planner", planner.run)
        runtime.background("suggester-outbox", relay.run)
        runtime.on_close(relay.drain)  # hand over what is committed before the broker stops

    def routes(app: FastAPI) -> None:
        api.install(app)
        share_api.install(app, settings.share_links_per_minute)

    return service_app(spec, wire, kafka=kafka, database=database, s3=s3, auth=auth,
                       identity=identity, routes=routes)
