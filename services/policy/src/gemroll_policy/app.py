"""The only wiring (uvicorn --factory); without `gate_enabled`, the API only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from gemroll_common import settings as common
from gemroll_common.propagation import Propagation
from gemroll_common.service import Runtime, ServiceSpec, service_app
from gemroll_contracts import CONSENT, Service

from . import api
from .adapters import postgres as pg
from .adapters.gate_loop import Checkpoint, GateLoop
from .adapters.storage import S3TrainingObjects
from .adapters.workers import ErasureWorker, monitor
from .domain import Pseudonymizer
from .gc_tuning import tune_gc
from .settings import PolicySettings
from .usecases import ConsentHandler, GateHandler, ReportHandler


def create_app(
    settings: PolicySettings | None = None, *, kafka: common.KafkaSettings | None = None,
    database: common.DatabaseSettings | None = None, s3: common.S3Settings | None = None,
    auth: common.AuthSettings | None = None, identity: common.IdentitySettings | None = None,
    clock: Callable[[], datetime] | None = None, checkpoint: Checkpoint | None = None,
) -> FastAPI:
    cfg = settings or PolicySettings()
    pseudonyms = Pseudonymizer(cfg.pseudonym_key(identity or common.IdentitySettings()))
    now, schema = clock or (lambda: datetime.now(UTC)), cfg.db_schema
    spec = ServiceSpec(
        Service.policy, "gemroll policy", "Consent ledger, training-data gate, revocation, "
        "erasure and retention.", db_schema=schema, migrations="gemroll_policy",
        store_threads=cfg.training_copy_concurrency, start_without_kafka=True)

    async def wire(runtime: Runtime, app: FastAPI) -> None:
        pool, store = runtime.require_pool(), runtime.require_store()
        gate = app.state.gate_handler = GateHandler(
            pg.PostgresGateStore(pool, schema, pseudonyms), pseudonyms, clock=now,
            retention_days=cfg.retention_days, objects=S3TrainingObjects(store),
            copy_concurrency=cfg.training_copy_concurrency)
        propagation = Propagation(pool, runtime.kafka, CONSENT,
                                  timeout_s=cfg.consent_in_effect_timeout_s)
        runtime.on_close(propagation.close)
        app.state.consent_handler = ConsentHandler(pg.PostgresConsentStore(pool, schema),
                                                   pseudonyms, now, propagation=propagation)
        app.state.report_handler = ReportHandler(pg.PostgresAuditReader(pool), pseudonyms)
        runtime.background("policy-erasure", ErasureWorker(
            pg.PostgresErasureQueue(pool), store, cfg.erasure_interval_s).run)
        runtime.background("policy-monitor", lambda: monitor(pool, cfg.monitor_interval_s))
        if cfg.gate_enabled:
            GateLoop(gate, pool, runtime.kafka, cfg, checkpoint=checkpoint).attach(runtime)
        tune_gc()

    return service_app(spec, wire, kafka=kafka, database=database, s3=s3, auth=auth,
                       identity=identity, routes=api.install)
