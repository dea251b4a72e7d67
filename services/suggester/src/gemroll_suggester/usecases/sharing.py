"""Share links: made when the user shares a suggestion (and asks for its link), revoked
when it is unshared, opened by anyone who holds one while `domain.sharing` says it opens.
What a link shows carries no metadata (`gemroll_common.media_privacy.strip_metadata`), and
only what was shared is reachable from it: its rendered image and, for a highlight, its
photos of the current revision."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from uuid import UUID

from gemroll_common.errors import ObjectMissing
from gemroll_common.logging import get_logger
from gemroll_common.media_privacy import UnreadableImage, strip_metadata
from gemroll_contracts import SuggestionKind

from ..domain import ActionName, ActionRefused, SuggestionRecord, SuggestionStatus
from ..domain.model import rendition_id_for
from ..domain.sharing import ShareLink, closed_because, new_link, shared_photos
from .deps import Deps

log = get_logger(__name__)

TOKEN_BYTES = 24
"""192 random bits per link."""


class LinkClosed(Exception):
    """The link does not open (never existed, revoked, expired, no longer shared...)."""


class NotYours(Exception):
    """No such suggestion for this user."""


async def link_for(deps: Deps, user_key: str, suggestion_id: UUID) -> ShareLink:
    """The live link of a suggestion the user shared; made on first ask."""
    now = deps.clock()
    async with deps.uow() as tx:
        await tx.lock_user(user_key)
        suggestion = await tx.suggestions.get(suggestion_id)
        if suggestion is None or suggestion.user_key != user_key:
            raise NotYours(str(suggestion_id))
        if (ActionName.share not in suggestion.actions
                or suggestion.status is SuggestionStatus.withdrawn):
            raise ActionRefused("not_shared", "share the suggestion first")
        link = await tx.share_links.live_of_suggestion(suggestion_id, now)
        if link is None:
            link = new_link(secrets.token_urlsafe(TOKEN_BYTES), suggestion, now,
                            timedelta(days=deps.settings.share_link_days))
            await tx.share_links.add(link)
            log.info("share_link_created", suggestion_id=str(suggestion_id))
    return link


async def live_links(deps: Deps, user_key: str) -> list[tuple[ShareLink, SuggestionRecord]]:
    """The user's links that open now, with what they show."""
    now = deps.clock()
    async with deps.uow() as tx:
        links = await tx.share_links.live_of_user(user_key, now)
        consent = await tx.consent.get(user_key)
        found = []
        for link in links:
            suggestion = await tx.suggestions.get(link.suggestion_id)
            if closed_because(link, suggestion, consent, now) is None and suggestion:
                found.append((link, suggestion))
    return found


async def open_link(deps: Deps, token: str) -> SuggestionRecord:
    """What the link shows, if it opens now."""
    now = deps.clock()
    async with deps.uow() as tx:
        link = await tx.share_links.get(token)
        suggestion = await tx.suggestions.get(link.suggestion_id) if link else None
        consent = await tx.consent.get(link.user_key) if link else None
    reason = closed_because(link, suggestion, consent, now)
    if reason is not None or suggestion is None:
        log.info("share_link_closed", reason=reason.value if reason else "gone")
        raise LinkClosed()
    return suggestion


async def shared_image(deps: Deps, token: str, index: int) -> tuple[bytes, str]:
    """Image `index` of a link, without metadata: 0 is the rendered suggestion (the AI edit,
    the collage, the highlight's cover), 1..n a highlight's photos."""
    suggestion = await open_link(deps, token)
    try:
        if index == 0:
            data = await _rendered(deps, suggestion)
        else:
            photos = shared_photos(suggestion)
            if not 1 <= index <= len(photos):
                raise LinkClosed()
            async with deps.uow() as tx:
                media = await tx.media.get([photos[index - 1]])
            if not media or media[0].picture_key is None:
                raise LinkClosed()
            data = await deps.storage.get(media[0].picture_key, bucket=media[0].bucket)
        clean = await asyncio.to_thread(strip_metadata, data)
    except (ObjectMissing, UnreadableImage) as exc:
        log.warning("share_image_unavailable", error_type=type(exc).__name__)
        raise LinkClosed() from exc
    return clean.data, clean.content_type


async def _rendered(deps: Deps, suggestion: SuggestionRecord) -> bytes:
    if suggestion.kind is SuggestionKind.edit:
        async with deps.uow() as tx:
            derived = await tx.renditions.get(
                rendition_id_for(suggestion.suggestion_id, suggestion.revision))
        if derived is not None:
            return await deps.storage.get(derived.object_key, bucket=derived.bucket)
    if suggestion.preview_object_key is None:
        raise LinkClosed()
    return await deps.storage.get(suggestion.preview_object_key)


__all__ = ["LinkClosed", "NotYours", "link_for", "live_links", "open_link", "shared_image"]
