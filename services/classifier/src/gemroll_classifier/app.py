"""The classifier's wiring: `uvicorn --factory gemroll_classifier.app:create_app`."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from fastapi import FastAPI
from gemroll_common.service import Runtime, ServiceSpec, service_app
from gemroll_common.settings import DatabaseSettings, KafkaSettings, S3Settings
from gemroll_contracts import Service

from . import metrics
from .adapters.kafka import KafkaSink
from .adapters.postgres import PostgresResults
from .adapters.preparers import preparer_for
from .adapters.storage import S3Reader
from .adapters.torch_model import resolve_device
from .adapters.video_frames import PyAvSampler
from .consumers import subscribe
from .models import Models, build_models
from .settings import ClassifierSettings
from .usecases.classify_batch import ClassifyBatch
from .usecases.erasure import EraseMedia


def create_app(settings: ClassifierSettings | None = None, kafka: KafkaSettings | None = None,
               database: DatabaseSettings | None = None, s3: S3Settings | None = None, *,
               models: Models | None = None) -> FastAPI:
    settings = settings or ClassifierSettings()
    spec = ServiceSpec(
        Service.classifier, "gemroll classifier", "Classifies uploaded photos and videos: "
        "category, quality, near duplicates, gems, reasons.",
        db_schema=settings.db_schema, migrations="gemroll_classifier", api_auth=False)

    async def wire(runtime: Runtime, app: FastAPI) -> None:
        used = app.state.models = models or build_models(settings)
        device = resolve_device(settings.device)
        decode_pool = ThreadPoolExecutor(settings.threads, thread_name_prefix="decode")
        model_pool = ThreadPoolExecutor(1, thread_name_prefix="model")
        for pool in (decode_pool, model_pool):
            runtime.on_close(partial(pool.shutdown, wait=False, cancel_futures=True))
        runtime.on_close(runtime.broker.stop)  # newest first: consumers stop before their pools
        results = PostgresResults(runtime.require_pool())
        classify = ClassifyBatch(
            reader=S3Reader(runtime.require_store()), model=used.image, nsfw=used.nsfw,
            preparer=preparer_for(device, decode_pool, max_pixels=settings.max_image_pixels,
                                  analysis_long_side=settings.analysis_long_side),
            store=results, sink=KafkaSink(runtime.publisher), model_pool=model_pool,
            sampler=PyAvSampler.configured(decode_pool, settings), heads=used.heads,
            options=settings.classify_options(), faces=used.faces, cpu_pool=decode_pool)
        subscribe(runtime.consumers, classify, EraseMedia(results),
                  batch_max=settings.batch_max, batch_timeout_ms=settings.batch_timeout_ms)
        await asyncio.get_running_loop().run_in_executor(model_pool, used.load)  # before any batch
        runtime.ready_when("model", used.ready)
        metrics.DEVICE_INFO.labels(device).set(1)

    return service_app(spec, wire, kafka=kafka, database=database, s3=s3)
