"""The only wiring: `uvicorn --factory gemroll_ingest.app:create_app --port 18081`."""

from __future__ import annotations

from fastapi import FastAPI
from gemroll_common import settings as common
from gemroll_common.service import Runtime, ServiceSpec, service_app
from gemroll_contracts import Service

from . import api, consumers
from .adapters import postgres
from .adapters.images import configure_pillow
from .adapters.inspector import MediaInspector
from .adapters.storage import S3BlobStore
from .settings import IngestSettings
from .usecases import Deps, Limits, UseCases
from .usecases.janitor import Janitor


def create_app(
    *, settings: IngestSettings | None = None, kafka: common.KafkaSettings | None = None,
    database: common.DatabaseSettings | None = None, s3: common.S3Settings | None = None,
    auth: common.AuthSettings | None = None, identity: common.IdentitySettings | None = None,
) -> FastAPI:
    cfg = settings or IngestSettings()
    s3 = s3 or common.S3Settings()
    spec = ServiceSpec(
        Service.ingest, "gemroll ingest", "Opt-in camera-roll uploads into object storage, "
        "announced as MediaUploaded.", db_schema=cfg.db_schema, migrations="gemroll_ingest",
        store_threads=cfg.storage_threads, start_without_kafka=True)  # events wait in the outbox

    async def wire(runtime: Runtime, app: FastAPI) -> None:
        pool = runtime.require_pool()
        relay = postgres.announcing_relay(pool, runtime.publisher, cfg)
        configure_pillow(cfg.max_image_pixels)
        deps = Deps(
            media=postgres.PgMediaRepository(pool), uploads=postgres.PgUploadRepository(pool),
            consent=postgres.PgConsentRepository(pool),
            blobs=S3BlobStore(runtime.require_store(), s3, presign_endpoint=cfg.presign_endpoint,
                              spool_dir=cfg.spool_dir),
            inspector=MediaInspector.configured(cfg),
            limits=Limits(cfg.max_upload_bytes, cfg.presign_ttl_s, cfg.complete_grace_s,
                          cfg.reservation_lease_s, cfg.max_video_bytes),
            outbox_written=relay.wake)
        app.state.ingest = UseCases.build(deps)
        app.state.janitor = Janitor(deps)
        consumers.subscribe(runtime.consumers, app.state.ingest)
        runtime.background("outbox-relay", relay.run)
        runtime.background("janitor", lambda: app.state.janitor.run(cfg.janitor_every_s))

    app = service_app(spec, wire, kafka=kafka, database=database, s3=s3, auth=auth,
                      identity=identity, routes=api.install)
    app.state.ingest_settings = cfg  # the API's limits
    return app
