"""Every classified media item is a training candidate: the policy service alone decides."""

from __future__ import annotations

import uuid

CANDIDATE_NAMESPACE = uuid.UUID("0d7c5f1e-2b4a-4c8e-9f3d-7a6b5c4d3e21")


def candidate_id(media_id: uuid.UUID) -> uuid.UUID:
    """Stable per (source, media), so a redelivery proposes the same candidate: the policy
    service dedupes decisions on it."""
    return uuid.uuid5(CANDIDATE_NAMESPACE, f"{media_id}:classifier")
