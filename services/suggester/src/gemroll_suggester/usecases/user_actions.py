"""Use cases behind the HTTP API: reading one's suggestions and acting on them.

An action publishes one UserAction per photo of the suggestion (through the outbox, in the
same transaction as the status change, so it is never lost). A positive action on an `edit`
suggestion renders the AI edit at full size, stores it as a derived object linked to its
original, and proposes it to the policy service as a TrainingCandidate. What an action may
do, and the status it ends in, is `domain.actions`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gemroll_common.errors import ObjectMissing
from gemroll_common.logging import get_logger
from gemroll_contracts import TRAINING_CANDIDATES, USER_ACTIONS, SuggestionKind

from ..domain import (
    UNDOES,
    ActionName,
    ActionRefused,
    DerivedMedia,
    SuggestionRecord,
    SuggestionStatus,
    acted,
    decide,
    is_new_fact,
)
from ..domain.model import rendition_id_for
from ..metrics import ACTIONS
from ..ports import PageCursor
from ..published import training_candidate, user_action
from .deps import Deps
from .renditions import render_rendition

log = get_logger(__name__)


class NotFound(Exception):
    """No such suggestion for this user (other users' suggestions are not found either)."""


class ImageMissing(Exception):
    """The suggestion has no such rendered image (yet, or any more)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _no_preview() -> ImageMissing:
    return ImageMissing("preview_not_available", "this suggestion has no preview (yet)")


def _no_rendition() -> ImageMissing:
    return ImageMissing("rendition_not_available",
                        "no AI-edited rendition was made for this suggestion")


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class ActionResult:
    suggestion: SuggestionRecord
    action: ActionName
    applied: bool
    derived_media_id: UUID | None


def encode_cursor(record: SuggestionRecord) -> str:
    raw = f"{record.created_at.isoformat()}|{record.suggestion_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, sid = raw.split("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return PageCursor(moment, UUID(sid))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc


async def list_suggestions(
    deps: Deps, user_key: str, *, status: SuggestionStatus | None, kind: SuggestionKind | None,
    limit: int, cursor: str | None,
) -> tuple[list[SuggestionRecord], str | None]:
    after = decode_cursor(cursor) if cursor else None
    async with deps.uow() as tx:
        rows = await tx.suggestions.page(user_key, status=status, kind=kind, limit=limit + 1,
                                         after=after)
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


async def get_suggestion(deps: Deps, user_key: str, suggestion_id: UUID) -> SuggestionRecord:
    async with deps.uow() as tx:
        found = await tx.suggestions.get(suggestion_id)
    if found is None or found.user_key != user_key:
        raise NotFound(str(suggestion_id))
    return found


async def preview(deps: Deps, user_key: str, suggestion_id: UUID) -> tuple[bytes, int]:
    """The preview JPEG and the revision it shows."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    if found.preview_object_key is None:
        raise _no_preview()
    try:
        return await deps.storage.get(found.preview_object_key), found.revision
    except ObjectMissing as exc:
        raise _no_preview() from exc


async def rendition(deps: Deps, user_key: str, suggestion_id: UUID) -> bytes:
    """The full-size AI edit of an edit suggestion the user saved, shared or applied."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    async with deps.uow() as tx:
        derived = await tx.renditions.get(rendition_id_for(found.suggestion_id, found.revision))
    if derived is None:
        raise _no_rendition()
    try:
        return await deps.storage.get(derived.object_key, bucket=derived.bucket)
    except ObjectMissing as exc:
        raise _no_rendition() from exc


async def act(deps: Deps, user_key: str, suggestion_id: UUID, action: ActionName) -> ActionResult:
    """Apply `action`; repeating an action is harmless. Raises NotFound or ActionRefused."""
    for _ in range(3):  # a re-plan between rendering and committing: start over
        seen = await get_suggestion(deps, user_key, suggestion_id)
        async with deps.uow() as tx:
            consent = await tx.consent.get(user_key)
        if consent is not None and not consent.camera_roll and action is not ActionName.unshare:
            raise ActionRefused("opted_out", "camera-roll suggestions are switched off")
        decision = decide(seen, action)
        derived = await render_rendition(deps, seen) if decision.needs_rendition else None
        result = await _commit_action(deps, user_key, seen, action, derived)
        if result is not None:
            ACTIONS.labels(action.value, "applied" if result.applied else "repeated").inc()
            return result
    raise ActionRefused("busy", "the suggestion keeps changing; try again")


async def _commit_action(deps: Deps, user_key: str, seen: SuggestionRecord, action: ActionName,
                         derived: DerivedMedia | None) -> ActionResult | None:
    """Record the action if the suggestion is still the revision the user saw (None: it
    changed meanwhile), with its user actions and a new rendition's training candidate."""
    now = deps.clock()
    async with deps.uow() as tx:
        await tx.lock_user(user_key)
        current = await tx.suggestions.get(seen.suggestion_id)
        if current is None or current.user_key != user_key:
            raise NotFound(str(seen.suggestion_id))
        if current.revision != seen.revision:
            return None
        decision = decide(current, action)
        new_rendition = False
        if derived is not None and await tx.renditions.get(derived.derived_media_id) is None:
            await tx.renditions.save(derived)
            new_rendition = True
        applied = decision.applied and await tx.suggestions.record_action(
            current.suggestion_id, action, now)
        if action is ActionName.unshare:  # its public links close with it, also on a repeat
            await tx.share_links.revoke(current.suggestion_id, now)
        updated = current
        if applied:
            if (undone := UNDOES.get(action)) is not None:
                await tx.suggestions.forget_action(current.suggestion_id, undone)
            updated = acted(current, action, decision, now)
            await tx.suggestions.save(updated)
            new_fact = is_new_fact(current, action)
            for media_id in current.media_ids:
                await tx.outbox.add(USER_ACTIONS, user_action(
                    current, action, media_id, now, new_fact=new_fact, derived=derived),
                    key=user_key, subject_id=media_id)
        if new_rendition and derived is not None:
            await tx.outbox.add(TRAINING_CANDIDATES, training_candidate(derived, now),
                                key=user_key, subject_id=derived.original_media_id)
    if applied:
        log.info("suggestion_action", action=action.value, kind=current.kind.value,
                 suggestion_id=str(current.suggestion_id))
    return ActionResult(updated, action, applied,
                        derived.derived_media_id if derived is not None else None)
