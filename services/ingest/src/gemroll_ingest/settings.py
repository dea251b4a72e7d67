"""The ingest service's own settings (`GEMROLL_INGEST_*`); endpoints come from gemroll_common."""

from __future__ import annotations

from gemroll_common.settings import FileSecretsSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

MB = 1024 * 1024
GB = 1024 * MB


class IngestSettings(FileSecretsSettings):
    model_config = SettingsConfigDict(env_prefix="GEMROLL_INGEST_", extra="ignore")

    db_schema: str = "ingest"
    max_upload_bytes: int = Field(50 * MB, ge=1, description="Largest accepted photo (413 above).")
    max_video_bytes: int = Field(2 * GB, ge=1, description="Largest accepted video (413 above).")
    max_video_duration_s: float = Field(
        600.0, gt=0, description="Longest accepted video, seconds (422 above).")
    max_metadata_bytes: int = Field(16 * 1024, ge=256, description="Largest `metadata` part.")
    max_image_pixels: int = Field(
        200_000_000, ge=1, description="Pixel limit against decompression bombs (422 above)."
    )
    full_decode_max_pixels: int = Field(
        50_000_000, ge=1,
        description="Formats without reduced decoding (PNG, WebP, HEIC, AVIF) are fully decoded "
        "up to this size (48 MP phone photos fit); larger PNGs are checked by their chunk CRCs, "
        "larger WebP/HEIC/AVIF are refused (422) as they cannot be verified. Bounds memory.",
    )
    decode_concurrency: int = Field(2, ge=1, description="Images validated at the same time.")
    storage_threads: int = Field(16, ge=1, le=256, description="Threads for blocking S3 calls.")
    spool_dir: str | None = Field(None, description="Where uploads are staged (default: TMPDIR).")
    presign_ttl_s: int = Field(3600, ge=60, le=7 * 24 * 3600)
    presign_endpoint: str | None = Field(
        None, description="Public S3 endpoint for presigned URLs (default: S3_ENDPOINT)."
    )
    complete_grace_s: int = Field(
        3600, ge=0, description="How long after the URL expires an upload may still complete."
    )
    relay_batch_size: int = Field(200, ge=1, le=5000)
    relay_idle_s: float = Field(0.5, gt=0, description="Poll interval when the outbox is empty.")
    relay_max_backoff_s: float = Field(30.0, gt=0, description="Longest wait between relay "
                                       "attempts while Kafka or the database is down.")
    publish_timeout_s: float = Field(15.0, gt=0)
    janitor_every_s: float = Field(60.0, gt=0)
    reservation_lease_s: float = Field(
        30.0, ge=3, description="How long a request's claim on the bytes it is storing lasts "
        "without renewal (renewed every third of it). A crashed request's claim runs out after "
        "this: the next upload of the same bytes takes it over, the janitor cleans up.")
    list_default_limit: int = Field(50, ge=1, le=100)
