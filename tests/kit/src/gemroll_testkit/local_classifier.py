"""The classifier's use case in one process, without Kafka, S3 or PostgreSQL (its
in-memory adapters). For the evaluation, the benchmark and experiments:

    pipeline = LocalPipeline.create(ClassifierSettings(device="cpu"))
    pipeline.reader.objects[key] = jpeg_bytes
    outcomes = await pipeline.classify.classify(uploads)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gemroll_classifier.adapters.memory import ListSink, MemoryReader, MemoryResults
from gemroll_classifier.adapters.preparers import preparer_for
from gemroll_classifier.adapters.torch_model import resolve_device
from gemroll_classifier.adapters.video_frames import PyAvSampler
from gemroll_classifier.domain.scorer import DEFAULT_THRESHOLDS, Thresholds
from gemroll_classifier.models import Models, build_models
from gemroll_classifier.settings import ClassifierSettings
from gemroll_classifier.usecases.classify_batch import ClassifyBatch


@dataclass
class LocalPipeline:
    classify: ClassifyBatch
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
        preparer = preparer_for(device, pool, analysis_long_side=settings.analysis_long_side,
                                max_pixels=settings.max_image_pixels)
        reader, store, sink = MemoryReader(load=load), MemoryResults(), ListSink()
        options = dataclasses.replace(settings.classify_options(), thresholds=thresholds)
        classify = ClassifyBatch(reader=reader, preparer=preparer, model=models.image,
                                 nsfw=models.nsfw, heads=models.heads, store=store,
                                 sink=sink,
                                 model_pool=ThreadPoolExecutor(1, thread_name_prefix="model"),
                                 sampler=PyAvSampler.configured(pool, settings),
                                 faces=models.faces, cpu_pool=pool, options=options)
        return cls(classify=classify, reader=reader, store=store, sink=sink, models=models,
                   device=device)
