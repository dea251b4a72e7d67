"""A highlight's recap movie: a title card, its photos (a slow zoom) and its videos' best
moments, rendered on first ask and stored beside its preview (`recap_key`), then served from
there. And the best moments themselves: each video of a suggestion trimmed to its best 3-6 s
without re-encoding (`moments`, `moment_clip`).

The movie is made outside any transaction. A photo deleted, or the user opting out, while it
renders wins: once stored, the suggestion is read again, and a movie of a revision that is no
longer current (or of a withdrawn suggestion) is deleted at once and not served. Removal deletes
the suggestion's whole prefix after its commit, so a movie stored before that commit is deleted
either way.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from gemroll_common.errors import ObjectMissing, StoreRefused
from gemroll_common.logging import get_logger
from gemroll_common.video import VideoUnreadable, probe
from gemroll_common.video_privacy import copy_without_metadata
from gemroll_contracts import SuggestionKind

from .. import rendering
from ..domain import MediaItem, SuggestionRecord, SuggestionStatus
from ..domain.model import recap_key
from ..rendering import recap
from .deps import Deps
from .user_actions import ImageMissing, get_suggestion

log = get_logger(__name__)


def _no_recap(why: str) -> ImageMissing:
    return ImageMissing("recap_not_available", why)


def style_of(deps: Deps) -> recap.RecapStyle:
    s = deps.settings
    return recap.RecapStyle(width=s.recap_width, height=s.recap_height, fps=s.recap_fps,
                            still_s=s.recap_still_seconds)


async def recap_movie(deps: Deps, user_key: str, suggestion_id: UUID) -> tuple[bytes, int]:
    """The MP4 of the user's highlight and the revision it shows."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    if found.kind is not SuggestionKind.highlight:
        raise _no_recap("only highlights have a recap movie")
    if found.status is SuggestionStatus.withdrawn or found.preview_object_key is None:
        raise _no_recap("this highlight has no recap movie (yet)")
    key = recap_key(found.user_key, found.suggestion_id, found.revision)
    try:
        return await deps.storage.get(key), found.revision
    except ObjectMissing:
        pass
    data = await _render(deps, found)
    await deps.storage.put(key, data, "video/mp4")
    current = await get_suggestion(deps, user_key, found.suggestion_id)
    if current.revision != found.revision or current.status is SuggestionStatus.withdrawn:
        await deps.storage.delete([key])
        raise _no_recap("the highlight changed while its movie was made; ask again")
    log.info("recap_rendered", suggestion_id=str(found.suggestion_id), bytes=len(data))
    return data, found.revision


async def _media_of(deps: Deps, found: SuggestionRecord) -> list[MediaItem]:
    """The suggestion's media that are still there, in its order."""
    async with deps.uow() as tx:
        media = {m.media_id: m for m in await tx.media.get(list(found.media_ids))}
    return [media[i] for i in found.media_ids if i in media]


async def _render(deps: Deps, found: SuggestionRecord) -> bytes:
    items = await _media_of(deps, found)
    with tempfile.TemporaryDirectory(prefix="gemroll-recap-") as work:
        shots = [s for s in [await _shot(deps, item, Path(work)) for item in items] if s]
        if not shots:
            raise _no_recap("none of the highlight's media can be shown")
        target = os.path.join(work, "recap.mp4")
        await asyncio.to_thread(recap.write, target, found.title, shots, style_of(deps))
        return await asyncio.to_thread(Path(target).read_bytes)


async def _shot(deps: Deps, item: MediaItem, work: Path) -> recap.Shot | None:
    """A still of a photo, the best moment of a video (its poster when it has none), or None
    when the media cannot be read (left out, as in previews)."""
    try:
        if item.is_video and item.best_moment is not None:
            path = work / str(item.media_id)
            await deps.storage.download(item.object_key, str(path), item.bucket,
                                        deps.settings.recap_max_video_bytes)
            start, end = item.best_moment
            await asyncio.to_thread(probe, path)
            return recap.Moment(path, start, end)
        if item.picture_key is None:
            return None
        data = await deps.storage.get(item.picture_key, bucket=item.bucket)
        image = await asyncio.to_thread(rendering.decode, data, deps.settings.preview_max_side)
        return recap.Still(image)
    except (ObjectMissing, StoreRefused, VideoUnreadable, rendering.UnreadableImage) as exc:
        log.warning("recap_media_unusable", media_id=str(item.media_id),
                    error_type=type(exc).__name__)
        return None


@dataclass(frozen=True)
class ClipMoment:
    media_id: UUID
    start_s: float
    end_s: float


async def _videos_of(deps: Deps, user_key: str, suggestion_id: UUID) -> list[MediaItem]:
    """The videos with a best moment in the user's suggestion, in its order."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    return [m for m in await _media_of(deps, found) if m.is_video and m.best_moment is not None]


async def moments(deps: Deps, user_key: str, suggestion_id: UUID) -> list[ClipMoment]:
    """The best moment of each video in the user's suggestion, in its order."""
    return [ClipMoment(m.media_id, *m.best_moment)  # type: ignore[misc] - set, see _videos_of
            for m in await _videos_of(deps, user_key, suggestion_id)]


async def moment_clip(deps: Deps, user_key: str, suggestion_id: UUID, media_id: UUID) -> bytes:
    """A video of the suggestion trimmed to its best moment: its video stream from the key
    frame at or before the start to the next key frame after the end, no re-encoding, no tags
    or audio (as a share would be)."""
    found = {m.media_id: m for m in await _videos_of(deps, user_key, suggestion_id)}
    if media_id not in found:
        raise _no_recap("this suggestion has no best moment of that media")
    item = found[media_id]
    start_s, end_s = item.best_moment  # type: ignore[misc] - set, see _videos_of
    with tempfile.TemporaryDirectory(prefix="gemroll-moment-") as work:
        source, target = Path(work) / "original", Path(work) / "moment.mp4"
        try:
            await deps.storage.download(item.object_key, str(source), item.bucket,
                                        deps.settings.recap_max_video_bytes)
            await asyncio.to_thread(copy_without_metadata, source, target,
                                    start_s=start_s, end_s=end_s)
        except (ObjectMissing, StoreRefused, VideoUnreadable) as exc:
            raise _no_recap(f"the video cannot be trimmed ({type(exc).__name__})") from None
        return await asyncio.to_thread(target.read_bytes)
