"""The only wiring: `create_app()` builds the policy service (uvicorn --factory)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from gemroll_common.auth import TokenVerifier, require_configured_auth
from gemroll_common.db import create_pool, migrate, ping
from gemroll_common.http import add_operational_routes, subscribers_assigned
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

from .adapters.gate_loop import Checkpoint, GateLoop
from .adapters.postgres import (
    PostgresAuditReader,
    PostgresConsentStore,
    PostgresErasureQueue,
    PostgresGateStore,
    PostgresOutbox,
)
from .adapters.storage import S3TrainingObjects
from .adapters.workers import ErasureWorker, monitor
from .api import install_error_handlers, router
from .domain import POLICY_VERSION, Pseudonymizer
from .handlers import ConsentHandler, GateHandler, ReportHandler
from .settings import PolicySettings

log = get_logger(__name__)
VERSION = "0.1.0"


def tune_gc() -> None:
    """The gate allocates many short-lived objects per batch: collect young objects less
    often, and keep what exists at start-up out of every collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def create_app(
    settings: PolicySettings | None = None,
    *,
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    s3: S3Settings | None = None,
    auth: AuthSettings | None = None,
    identity: IdentitySettings | None = None,
    clock: Callable[[], datetime] | None = None,
    checkpoint: Checkpoint | None = None,
) -> FastAPI:
    settings = settings or PolicySettings()
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    s3 = s3 or S3Settings()
    auth = auth or require_configured_auth(AuthSettings())
    identity = identity or IdentitySettings()
    now = clock or (lambda: datetime.now(UTC))
    secret = settings.pseudonym_secret.get_secret_value()
    if secret == identity.user_key_secret.get_secret_value():
        raise ValueError("GEMROLL_POLICY_PSEUDONYM_SECRET must differ from "
                         "GEMROLL_USER_KEY_SECRET (training data must not join to user keys)")
    pseudonyms = Pseudonymizer(secret)
    configure_logging("policy")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        schema = settings.db_schema
        pool = await create_pool(database, schema)
        tasks: list[asyncio.Task[None]] = []
        cleanup = contextlib.ExitStack()
        try:
            await migrate(pool, schema, "gemroll_policy")
            objects = ObjectStore(s3)
            await objects.ensure_bucket()
            copies = S3TrainingObjects(objects, settings.training_copy_concurrency)
            cleanup.callback(copies.close)
            gate = GateHandler(PostgresGateStore(pool, schema, pseudonyms), pseudonyms,
                               retention_days=settings.retention_days, clock=now,
                               objects=copies,
                               copy_concurrency=settings.training_copy_concurrency)
            outbox = PostgresOutbox(pool, schema)
            loop = GateLoop(gate, outbox, kafka, settings, checkpoint=checkpoint)
            erasures = ErasureWorker(PostgresErasureQueue(pool), objects,
                                     settings.erasure_interval_s)
            app.state.pool = pool
            app.state.objects = objects
            app.state.gate_handler = gate
            app.state.gate_loop = loop
            app.state.outbox = outbox
            app.state.erasure_worker = erasures
            app.state.consent_handler = ConsentHandler(PostgresConsentStore(pool, schema),
                                                       pseudonyms, now)
            app.state.report_handler = ReportHandler(PostgresAuditReader(pool), pseudonyms)
            if settings.gate_enabled:
                tasks.append(asyncio.create_task(loop.run(), name="policy-gate"))
                tasks.append(asyncio.create_task(watch_consumer_lag("policy", [loop])))
            tasks.append(asyncio.create_task(erasures.run(), name="policy-erasure"))
            tasks.append(asyncio.create_task(monitor(pool, settings.monitor_interval_s)))
            tune_gc()
            SERVICE_INFO.labels("policy", VERSION).set(1)
            log.info("policy_started", schema=schema, gate=settings.gate_enabled,
                     policy_version=POLICY_VERSION, retention_days=settings.retention_days)
            yield
        finally:
            started_loop = getattr(app.state, "gate_loop", None)
            if started_loop is not None:
                started_loop.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            await pool.close()
            cleanup.close()

    app = FastAPI(
        title="gemroll policy",
        version=VERSION,
        description="Consent ledger, training-data gate, revocation, erasure and retention.",
        lifespan=lifespan,
    )
    app.state.token_verifier = TokenVerifier(auth, identity)
    app.state.settings = settings
    app.include_router(router)
    install_error_handlers(app)

    async def database_ready() -> bool:
        return await ping(app.state.pool)

    async def object_store_ready() -> bool:
        return await app.state.objects.ping()

    checks = {"database": database_ready, "object_store": object_store_ready}
    if settings.gate_enabled:
        async def gate_ready() -> bool:
            return await subscribers_assigned([app.state.gate_loop])()

        checks["gate"] = gate_ready
    add_operational_routes(app, "policy", checks)
    return app
