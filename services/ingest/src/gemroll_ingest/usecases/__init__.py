"""The ingest's use cases, one module each: `upload` (direct) and `presigned` (two-step)
uploads, `listing`, `deletion`, the `consent` projection, `erasure` (media and whole
accounts), `pipeline` status, and the `janitor`'s clean-up. Each is built from `Deps`; the
rules they apply live in `domain/`."""

from __future__ import annotations

from dataclasses import dataclass

from .consent import ConsentProjection
from .deletion import Deletion
from .deps import Deps, Limits
from .erasure import Erasure
from .listing import Listing
from .pipeline import PipelineStatus
from .presigned import PresignedUploads
from .upload import Uploads


@dataclass(frozen=True)
class UseCases:
    uploads: Uploads
    presigned: PresignedUploads
    listing: Listing
    deletion: Deletion
    consent: ConsentProjection
    erasure: Erasure
    pipeline: PipelineStatus

    @classmethod
    def build(cls, deps: Deps) -> UseCases:
        uploads = Uploads(deps)
        erasure = Erasure(media=deps.media, uploads=deps.uploads, consent=deps.consent,
                          blobs=deps.blobs)
        return cls(uploads=uploads, presigned=PresignedUploads(deps, uploads),
                   listing=Listing(deps),
                   deletion=Deletion(deps.media, deps.outbox_written),
                   consent=ConsentProjection(deps.consent, erasure), erasure=erasure,
                   pipeline=PipelineStatus(deps.media))


__all__ = ["Deps", "Limits", "UseCases"]
