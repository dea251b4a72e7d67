"""AI renditions: the full-size edit rendered when the user takes an edit suggestion, and the
sweep that deletes renditions whose action never committed."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from gemroll_common.errors import ObjectMissing
from gemroll_common.logging import get_logger

from .. import rendering
from ..domain import ActionRefused, DerivedMedia, SuggestionRecord
from ..domain.model import derived_key, rendition_id_for
from ..metrics import RENDER_SECONDS
from ..ports import RenditionObject
from .deps import Deps

log = get_logger(__name__)


async def render_rendition(deps: Deps, suggestion: SuggestionRecord) -> DerivedMedia:
    """Render the AI edit of the original at full size and store it (deterministic id/key).
    The object key is recorded (and committed) before the object is written."""
    assert suggestion.recipe is not None
    recipe = suggestion.recipe
    original_id = suggestion.media_ids[0]
    derived_media_id = rendition_id_for(suggestion.suggestion_id, suggestion.revision)
    async with deps.uow() as tx:
        existing = await tx.renditions.get(derived_media_id)
        originals = await tx.media.get([original_id])
    if existing is not None:
        return existing
    if not originals:
        raise ActionRefused("media_gone", "the original photo is no longer available")
    original = originals[0]
    try:
        data = await deps.storage.get(original.object_key, bucket=original.bucket)
    except ObjectMissing as exc:
        raise ActionRefused("media_gone", "the original photo is no longer available") from exc
    max_side = deps.settings.rendition_max_side or None
    started = time.perf_counter()

    def render() -> bytes:
        image = rendering.decode(data, max_side)
        return rendering.encode_jpeg(rendering.apply_recipe(image, recipe),
                                     deps.settings.jpeg_quality,
                                     icc_profile=rendering.rgb_icc_profile(data))

    jpeg = await asyncio.to_thread(render)
    RENDER_SECONDS.labels("rendition").observe(time.perf_counter() - started)
    key = derived_key(suggestion.user_key, derived_media_id)
    async with deps.uow() as tx:  # committed before the write: erasure and the sweep see it
        await tx.renditions.record_object(RenditionObject(
            object_key=key, bucket=deps.storage.bucket, user_key=suggestion.user_key,
            original_media_id=original_id, derived_media_id=derived_media_id))
    await deps.storage.put(key, jpeg, "image/jpeg")
    return DerivedMedia(
        derived_media_id=derived_media_id, user_key=suggestion.user_key,
        original_media_id=original_id, suggestion_id=suggestion.suggestion_id,
        bucket=deps.storage.bucket, object_key=key, recipe=recipe, created_at=deps.clock(),
    )


async def sweep_orphan_renditions(deps: Deps, older_than: datetime, limit: int = 500) -> int:
    """Delete rendition objects whose action never committed (recorded, written, but no
    derived_media row refers to them after the grace period); returns how many."""
    async with deps.uow() as tx:
        orphans = await tx.renditions.orphan_objects(older_than, limit)
    if not orphans:
        return 0
    await deps.storage.delete([o.object_key for o in orphans])
    async with deps.uow() as tx:
        # only what is still an orphan: a commit may have adopted one meanwhile (then the
        # object is written again on the next action; the record stays for erasure)
        still = {o.object_key for o in await tx.renditions.orphan_objects(older_than, limit)}
        await tx.renditions.forget_objects([o.object_key for o in orphans
                                            if o.object_key in still])
    log.info("orphan_renditions_swept", count=len(orphans))
    return len(orphans)
