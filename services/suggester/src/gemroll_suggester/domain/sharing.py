"""Share links: what a public link to a shared suggestion may show, and when it opens.

A link opens only while all of these hold, checked each time it is opened: it was not
revoked (unshare revokes every link of the suggestion), it has not expired, the suggestion is
still shared (not unshared, withdrawn or gone), and its owner is still opted in. Otherwise it
answers exactly like a link that never existed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gemroll_contracts import SuggestionKind

from .model import ActionName, Consent, SuggestionRecord, SuggestionStatus


@dataclass(frozen=True)
class ShareLink:
    token: str
    """Unguessable (192 random bits, URL-safe); the link is `/s/<token>`."""
    suggestion_id: UUID
    user_key: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class Closed(StrEnum):
    """Why a link does not open (logged; the visitor sees a plain 404 either way)."""

    unknown = "unknown"
    revoked = "revoked"
    expired = "expired"
    not_shared = "not_shared"
    opted_out = "opted_out"


def new_link(token: str, suggestion: SuggestionRecord, now: datetime,
             lifetime: timedelta) -> ShareLink:
    return ShareLink(token, suggestion.suggestion_id, suggestion.user_key, now, now + lifetime)


def closed_because(link: ShareLink | None, suggestion: SuggestionRecord | None,
                   consent: Consent | None, now: datetime) -> Closed | None:
    """None when the link opens; otherwise why not."""
    if link is None:
        return Closed.unknown
    if link.revoked_at is not None:
        return Closed.revoked
    if now >= link.expires_at:
        return Closed.expired
    if (suggestion is None or suggestion.user_key != link.user_key
            or suggestion.status is SuggestionStatus.withdrawn
            or ActionName.share not in suggestion.actions):
        return Closed.not_shared
    if consent is None or not consent.camera_roll:
        return Closed.opted_out
    return None


def shared_photos(suggestion: SuggestionRecord) -> tuple[UUID, ...]:
    """The photos a highlight's link shows one by one (an edit and a collage show their
    rendered image only)."""
    return suggestion.media_ids if suggestion.kind is SuggestionKind.highlight else ()


__all__ = ["Closed", "ShareLink", "closed_because", "new_link", "shared_photos"]
