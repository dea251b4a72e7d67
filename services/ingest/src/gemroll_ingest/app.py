"""The only wiring: `create_app()` builds the FastAPI app; its lifespan connects everything.

Run: `uvicorn --factory gemroll_ingest.app:create_app --port 18081`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from gemroll_common.auth import TokenVerifier, require_configured_auth
from gemroll_common.db import create_pool, migrate
from gemroll_common.db import ping as db_ping
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

from . import api
from .adapters.images import PillowInspector, configure_pillow
from .adapters.kafka import KafkaOutboxPublisher, build_broker, keep_connecting
from .adapters.postgres import (
    PgConsentRepository,
    PgMediaRepository,
    PgOutboxStore,
    PgUploadRepository,
)
from .adapters.storage import S3BlobStore
from .handlers import Ingest, Limits
from .janitor import Janitor
from .relay import OutboxRelay
from .settings import IngestSettings

SERVICE = "ingest"
VERSION = "0.1.0"
log = get_logger(__name__)


def create_app(
    *,
    settings: IngestSettings | None = None,
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    s3: S3Settings | None = None,
    auth: AuthSettings | None = None,
    identity: IdentitySettings | None = None,
) -> FastAPI:
    """The ingest app; settings default to the environment. Nothing connects before startup."""
    settings = settings or IngestSettings()
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    s3 = s3 or S3Settings()
    configure_logging(SERVICE)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database, settings.db_schema)
        tasks: list[asyncio.Task[None]] = []
        broker, blobs = None, None
        try:
            await migrate(pool, settings.db_schema, "gemroll_ingest")
            blobs = S3BlobStore(s3, presign_endpoint=settings.presign_endpoint,
                                spool_dir=settings.spool_dir, threads=settings.storage_threads)
            await blobs.ensure_bucket()
            configure_pillow(settings.max_image_pixels)
            media = PgMediaRepository(pool)
            uploads = PgUploadRepository(pool)
            outbox = PgOutboxStore(pool, settings.db_schema)
            ingest = Ingest(
                media=media, uploads=uploads, consent=PgConsentRepository(pool), blobs=blobs,
                inspector=PillowInspector(
                    max_pixels=settings.max_image_pixels,
                    full_decode_max_pixels=settings.full_decode_max_pixels,
                    concurrency=settings.decode_concurrency),
                limits=Limits(max_upload_bytes=settings.max_upload_bytes,
                              presign_ttl_s=settings.presign_ttl_s,
                              complete_grace_s=settings.complete_grace_s),
            )
            broker, subscribers = build_broker(kafka, ingest)
            relay = OutboxRelay(
                outbox, KafkaOutboxPublisher(broker, kafka, settings.publish_timeout_s),
                batch_size=settings.relay_batch_size, idle_s=settings.relay_idle_s,
                max_backoff_s=settings.relay_max_backoff_s,
            )
            ingest.outbox_written = relay.wake
            janitor = Janitor(
                media=media, uploads=uploads, outbox=outbox, blobs=blobs,
                stale_storing_s=settings.stale_storing_s,
                complete_grace_s=settings.complete_grace_s,
                outbox_retention_s=settings.outbox_retention_s,
            )
            app.state.pool, app.state.blobs, app.state.ingest = pool, blobs, ingest
            app.state.subscribers, app.state.relay, app.state.janitor = subscribers, relay, janitor
            tasks = [
                asyncio.create_task(keep_connecting(broker, settings.relay_max_backoff_s),
                                    name="kafka-connect"),
                asyncio.create_task(relay.run(), name="outbox-relay"),
                asyncio.create_task(janitor.run(settings.janitor_every_s), name="janitor"),
                asyncio.create_task(watch_consumer_lag(SERVICE, subscribers), name="lag"),
            ]
            log.info("ingest_started", schema=settings.db_schema)
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if broker is not None:
                with contextlib.suppress(Exception):
                    await broker.stop()
            if blobs is not None:
                blobs.close()
            await pool.close()

    app = FastAPI(
        title="gemroll ingest",
        version=VERSION,
        description="Opt-in camera-roll uploads into object storage, announced as MediaUploaded.",
        lifespan=lifespan,
    )
    # Settings read from the environment must configure real authentication (or say
    # GEMROLL_ENV=development); settings passed in are the caller's (tests) decision.
    auth = auth if auth is not None else require_configured_auth(AuthSettings())
    app.state.token_verifier = TokenVerifier(auth, identity or IdentitySettings())
    app.state.ingest_settings = settings
    api.install(app)

    async def database_ready() -> bool:
        return await db_ping(app.state.pool)

    async def storage_ready() -> bool:
        return await app.state.blobs.ping()  # type: ignore[no-any-return]

    async def kafka_ready() -> bool:
        return await subscribers_assigned(app.state.subscribers)()

    add_operational_routes(app, SERVICE, {
        "database": database_ready, "object_store": storage_ready, "kafka": kafka_ready,
    })
    SERVICE_INFO.labels(SERVICE, VERSION).set(1)
    return app
