"""The classifier service: the only place where things are wired together.

    uvicorn --factory gemroll_classifier.app:create_app --port 18082
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from gemroll_common.db import create_pool, migrate, ping
from gemroll_common.http import add_operational_routes, subscribers_assigned
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.logging import configure_logging, get_logger
from gemroll_common.metrics import SERVICE_INFO, watch_consumer_lag
from gemroll_common.settings import DatabaseSettings, KafkaSettings, S3Settings
from gemroll_contracts import Service

from . import metrics
from .adapters.kafka import KafkaSink
from .adapters.nsfw import OpenNsfw
from .adapters.postgres import PostgresResults
from .adapters.preparers import CpuPreparer, CudaPreparer
from .adapters.storage import S3Reader
from .adapters.torch_model import MobileNetV2, resolve_device
from .consumers import subscribe
from .handlers import ClassifyMedia, Options
from .ports import ImageModel, NsfwModel
from .settings import ClassifierSettings

SERVICE = Service.classifier
VERSION = "0.1.0"
log = get_logger(__name__)


@dataclass
class Models:
    """The models a classifier uses; tests share one instance across apps."""

    image: ImageModel
    nsfw: NsfwModel | None


def build_models(settings: ClassifierSettings) -> Models:
    device = resolve_device(settings.device)
    image = MobileNetV2(torch_home=settings.torch_home, wheel_dir=settings.wheel_dir,
                        device=device, threads=settings.threads)
    nsfw = OpenNsfw(threads=settings.threads, device=device) if settings.nsfw_enabled else None
    return Models(image=image, nsfw=nsfw)


def options_from(settings: ClassifierSettings) -> Options:
    return Options(
        fetch_attempts=settings.fetch_attempts, fetch_backoff_s=settings.fetch_backoff_s,
        prefetch_concurrency=settings.prefetch_concurrency,
        duplicate_window=timedelta(hours=settings.duplicate_window_hours),
        duplicate_window_items=settings.duplicate_window_items,
        publish_embedding=settings.publish_embedding,
        nsfw_min_skin_fraction=settings.nsfw_min_skin_fraction)


def create_app(
    settings: ClassifierSettings | None = None,
    kafka: KafkaSettings | None = None,
    database: DatabaseSettings | None = None,
    s3: S3Settings | None = None,
    *,
    models: Models | None = None,
) -> FastAPI:
    settings = settings or ClassifierSettings()
    kafka = kafka or KafkaSettings()
    database = database or DatabaseSettings()
    s3 = s3 or S3Settings()
    configure_logging(SERVICE)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        used = models or build_models(settings)
        device = resolve_device(settings.device)
        decode_pool = ThreadPoolExecutor(settings.threads, thread_name_prefix="decode")
        model_pool = ThreadPoolExecutor(1, thread_name_prefix="model")
        pool = await create_pool(database, settings.db_schema)
        tasks: list[asyncio.Task[None]] = []
        try:
            await migrate(pool, settings.db_schema, "gemroll_classifier")
            reader = S3Reader(s3)
            preparer_cls = CudaPreparer if device == "cuda" else CpuPreparer
            preparer = preparer_cls(decode_pool, analysis_long_side=settings.analysis_long_side,
                                    max_pixels=settings.max_image_pixels)
            broker = make_broker(kafka, SERVICE)
            publisher = EventPublisher(broker, kafka, SERVICE)
            classify = ClassifyMedia(
                reader=reader, preparer=preparer, model=used.image, nsfw=used.nsfw,
                store=PostgresResults(pool), sink=KafkaSink(publisher), model_pool=model_pool,
                options=options_from(settings))
            subs = subscribe(broker, settings=settings, kafka=kafka, classify=classify,
                             publisher=publisher)
            app.state.pool, app.state.reader, app.state.subscribers = pool, reader, subs
            app.state.models = used
            # Load the models before consuming, so the first batch is not a slow one.
            await asyncio.get_running_loop().run_in_executor(model_pool, _load, used)
            metrics.DEVICE_INFO.labels(device).set(1)
            SERVICE_INFO.labels(SERVICE, VERSION).set(1)
            async with broker:
                await broker.start()
                tasks.append(asyncio.create_task(watch_consumer_lag(SERVICE, subs)))
                log.info("classifier_started", device=device, batch_max=settings.batch_max)
                yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()
            decode_pool.shutdown(wait=False, cancel_futures=True)
            model_pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="gemroll classifier", version=VERSION, lifespan=lifespan,
                  description="Classifies uploaded media: category, quality, near duplicates, "
                  "gems. Consumes gemroll.media.uploaded.v1, publishes "
                  "gemroll.media.classified.v1 and gemroll.training.candidates.v1.")

    async def db_ready() -> bool:
        return await ping(app.state.pool)

    async def s3_ready() -> bool:
        return await app.state.reader.ping()

    async def subscribers_ready() -> bool:
        return await subscribers_assigned(app.state.subscribers)()

    async def model_ready() -> bool:
        return bool(getattr(app.state.models.image, "loaded", True))

    add_operational_routes(app, SERVICE, {"db": db_ready, "s3": s3_ready,
                                          "subscribers": subscribers_ready,
                                          "model": model_ready})
    return app


def _load(models: Models) -> None:
    for model in (models.image, models.nsfw):
        load = getattr(model, "load", None)
        if load is not None:
            load()
