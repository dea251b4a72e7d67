"""What the ingest consumes, through the runtime kit's runner (decode, retry, dead-letter):
consent into its projection, erasures, and classifications into the pipeline status."""

from __future__ import annotations

from gemroll_common.consumer import Consumers
from gemroll_contracts import CONSENT, MEDIA_CLASSIFIED, MEDIA_ERASED

from .usecases import UseCases


def subscribe(consumers: Consumers, ingest: UseCases) -> None:
    consumers.subscribe(CONSENT, ingest.consent.changed)
    consumers.subscribe(MEDIA_ERASED, ingest.erasure.erase)
    consumers.subscribe(MEDIA_CLASSIFIED, ingest.pipeline.classified)
