"""The full classification pipeline in one process, without Kafka, S3 or PostgreSQL.

For the evaluation, the benchmark and experiments:

    pipeline = LocalPipeline.create(ClassifierSettings(device="cpu"))
    pipeline.reader.objects[key] = jpeg_bytes
    outcomes = await pipeline.classify.classify(uploads)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .adapters.memory import ListSink, MemoryReader, MemoryResults
from .adapters.preparers import CpuPreparer, CudaPreparer
from .adapters.torch_model import resolve_device
from .app import Models, build_models, options_from
from .domain.scorer import DEFAULT_THRESHOLDS, Thresholds
from .handlers import ClassifyMedia
from .settings import ClassifierSettings


@dataclass
class LocalPipeline:
    classify: ClassifyMedia
    reader: MemoryReader
    store: MemoryResults
    sink: ListSink
    models: Models
    device: str

    @classmethod
    def create(cls, settings: ClassifierSettings, *, models: Models | None = None,
               load: Callable[[str], bytes | None] | None = None,
               thresholds: Thresholds = DEFAULT_THRESHOLDS) -> LocalPipeline:
        models = models or build_models(settings)
        device = resolve_device(settings.device)
        pool = ThreadPoolExecutor(settings.threads, thread_name_prefix="decode")
        preparer_cls = CudaPreparer if device == "cuda" else CpuPreparer
        preparer = preparer_cls(pool, analysis_long_side=settings.analysis_long_side,
                                max_pixels=settings.max_image_pixels)
        reader, store, sink = MemoryReader(load=load), MemoryResults(), ListSink()
        options = options_from(settings)
        options = type(options)(**{**options.__dict__, "thresholds": thresholds})
        classify = ClassifyMedia(reader=reader, preparer=preparer, model=models.image,
                                 nsfw=models.nsfw, store=store, sink=sink,
                                 model_pool=ThreadPoolExecutor(1, thread_name_prefix="model"),
                                 options=options)
        return cls(classify=classify, reader=reader, store=store, sink=sink, models=models,
                   device=device)
