"""Use cases behind the HTTP API: reading one's suggestions and acting on them.

An action publishes one UserAction per photo of the suggestion (through the outbox, in the
same transaction as the status change, so it is never lost). A positive action on an `edit`
suggestion renders the AI edit at full size, stores it as a derived object linked to its
original, and proposes it to the policy service as a TrainingCandidate.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from gemroll_common.logging import get_logger
from gemroll_contracts import (
    TRAINING_CANDIDATES,
    USER_ACTIONS,
    CandidateSource,
    SuggestionKind,
    TrainingCandidate,
    TrainingCandidateData,
    UserAction,
    UserActionData,
)

from . import rendering
from .domain import (
    ACTION_KIND,
    ActionName,
    ActionRefused,
    DerivedMedia,
    SuggestionRecord,
    SuggestionStatus,
    decide,
)
from .domain.model import candidate_id_for, derived_id, derived_key, rendition_id_for
from .handlers import Deps
from .metrics import ACTIONS, RENDER_SECONDS
from .ports import MissingObject, PageCursor, RenditionObject

log = get_logger(__name__)


class NotFound(Exception):
    """No such suggestion for this user (other users' suggestions are not found either)."""


class PreviewMissing(Exception):
    """The suggestion has no rendered image (yet, or any more)."""


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
    async with deps.uow() as repo:
        rows = await repo.list_suggestions(user_key, status=status, kind=kind, limit=limit + 1,
                                           after=after)
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


async def get_suggestion(deps: Deps, user_key: str, suggestion_id: UUID) -> SuggestionRecord:
    async with deps.uow() as repo:
        found = await repo.get_suggestion(suggestion_id)
    if found is None or found.user_key != user_key:
        raise NotFound(str(suggestion_id))
    return found


async def preview(deps: Deps, user_key: str, suggestion_id: UUID) -> tuple[bytes, int]:
    """The preview JPEG and the revision it shows."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    if found.preview_object_key is None:
        raise PreviewMissing(str(suggestion_id))
    try:
        return await deps.storage.get(found.preview_object_key), found.revision
    except MissingObject as exc:
        raise PreviewMissing(str(suggestion_id)) from exc


async def rendition(deps: Deps, user_key: str, suggestion_id: UUID) -> bytes:
    """The full-size AI edit of an edit suggestion the user saved, shared or applied."""
    found = await get_suggestion(deps, user_key, suggestion_id)
    async with deps.uow() as repo:
        derived = await repo.get_derived(rendition_id_for(found.suggestion_id, found.revision))
    if derived is None:
        raise PreviewMissing(str(suggestion_id))
    try:
        return await deps.storage.get(derived.object_key, bucket=derived.bucket)
    except MissingObject as exc:
        raise PreviewMissing(str(suggestion_id)) from exc


async def _render_rendition(deps: Deps, suggestion: SuggestionRecord) -> DerivedMedia:
    """Render the AI edit of the original at full size and store it (deterministic id/key)."""
    assert suggestion.recipe is not None
    original_id = suggestion.media_ids[0]
    async with deps.uow() as repo:
        existing = await repo.get_derived(rendition_id_for(suggestion.suggestion_id,
                                                           suggestion.revision))
        originals = await repo.get_media([original_id])
    if existing is not None:
        return existing
    if not originals:
        raise ActionRefused("media_gone", "the original photo is no longer available")
    original = originals[0]
    try:
        data = await deps.storage.get(original.object_key, bucket=original.bucket)
    except MissingObject as exc:
        raise ActionRefused("media_gone", "the original photo is no longer available") from exc
    max_side = deps.settings.rendition_max_side or None
    started = time.perf_counter()

    def render() -> bytes:
        image = rendering.decode(data, max_side)
        return rendering.encode_jpeg(rendering.apply_recipe(image, suggestion.recipe),
                                     deps.settings.jpeg_quality,
                                     icc_profile=rendering.rgb_icc_profile(data))

    jpeg = await asyncio.to_thread(render)
    RENDER_SECONDS.labels("rendition").observe(time.perf_counter() - started)
    derived_media_id = rendition_id_for(suggestion.suggestion_id, suggestion.revision)
    key = derived_key(suggestion.user_key, derived_media_id)
    async with deps.uow() as repo:  # committed before the write: erasure and the sweep see it
        await repo.record_rendition_object(RenditionObject(
            object_key=key, bucket=deps.storage.bucket, user_key=suggestion.user_key,
            original_media_id=original_id, derived_media_id=derived_media_id))
    await deps.storage.put(key, jpeg, "image/jpeg")
    return DerivedMedia(
        derived_media_id=derived_media_id, user_key=suggestion.user_key,
        original_media_id=original_id, suggestion_id=suggestion.suggestion_id,
        bucket=deps.storage.bucket, object_key=key, recipe=suggestion.recipe,
        created_at=deps.clock(),
    )


async def act(deps: Deps, user_key: str, suggestion_id: UUID, action: ActionName) -> ActionResult:
    """Apply `action`; repeating an action is harmless. Raises NotFound or ActionRefused."""
    for _ in range(3):  # a re-plan between rendering and committing: start over
        seen = await get_suggestion(deps, user_key, suggestion_id)
        async with deps.uow() as repo:
            consent = await repo.consent(user_key)
        if consent is not None and not consent.camera_roll and action is not ActionName.unshare:
            raise ActionRefused("opted_out", "camera-roll suggestions are switched off")
        decision = decide(seen, action)
        derived = await _render_rendition(deps, seen) if decision.needs_rendition else None
        result = await _commit_action(deps, user_key, seen, action, derived)
        if result is not None:
            ACTIONS.labels(action.value, "applied" if result.applied else "repeated").inc()
            return result
    raise ActionRefused("busy", "the suggestion keeps changing; try again")


_UNDOES = {ActionName.unshare: ActionName.share, ActionName.share: ActionName.unshare}


async def _commit_action(deps: Deps, user_key: str, seen: SuggestionRecord, action: ActionName,
                         derived: DerivedMedia | None) -> ActionResult | None:
    now = deps.clock()
    async with deps.uow() as repo:
        await repo.lock_user(user_key)
        current = await repo.get_suggestion(seen.suggestion_id)
        if current is None or current.user_key != user_key:
            raise NotFound(str(seen.suggestion_id))
        if current.revision != seen.revision:
            return None
        decision = decide(current, action)
        new_rendition = False
        if derived is not None and await repo.get_derived(derived.derived_media_id) is None:
            await repo.save_derived(derived)
            new_rendition = True
        applied = decision.applied and await repo.record_action(current.suggestion_id, action, now)
        updated = current
        if applied:
            # share and unshare undo each other: the other one may be taken (again) next
            undone = _UNDOES.get(action)
            again = undone is not None and undone in current.actions
            if undone is not None:
                await repo.forget_action(current.suggestion_id, undone)
            updated = replace(current, status=decision.status, updated_at=now,
                              actions=(current.actions - {undone}) | {action})
            await repo.save_suggestion(updated)
            # a share after an unshare (and every unshare) is a new fact: a new event id
            cycle = (now.isoformat(),) if again or action is ActionName.unshare else ()
            for media_id in current.media_ids:
                await repo.add_outbox(USER_ACTIONS, UserAction(
                    event_id=derived_id("user-action", current.suggestion_id, action, media_id,
                                        *cycle),
                    producer="suggester",
                    data=UserActionData(
                        user_key=user_key, media_id=media_id, action=ACTION_KIND[action],
                        suggestion_id=current.suggestion_id,
                        derived_media_id=derived.derived_media_id if derived else None,
                        acted_at=now,
                    ),
                ), key=user_key)
        if new_rendition and derived is not None:
            await repo.add_outbox(TRAINING_CANDIDATES, TrainingCandidate(
                event_id=derived_id("training-candidate-event", derived.derived_media_id),
                producer="suggester",
                data=TrainingCandidateData(
                    candidate_id=candidate_id_for(derived.derived_media_id), user_key=user_key,
                    media_id=derived.original_media_id, source=CandidateSource.suggester,
                    bucket=derived.bucket, object_key=derived.object_key,
                    derived_media_id=derived.derived_media_id, proposed_at=now,
                ),
            ), key=user_key)
    if applied:
        log.info("suggestion_action", action=action.value, kind=current.kind.value,
                 suggestion_id=str(current.suggestion_id))
    return ActionResult(updated, action, applied,
                        derived.derived_media_id if derived is not None else None)


async def sweep_orphan_renditions(deps: Deps, older_than: datetime, limit: int = 500) -> int:
    """Delete rendition objects whose action never committed (recorded, written, but no
    derived_media row refers to them after the grace period); returns how many."""
    async with deps.uow() as repo:
        orphans = await repo.orphan_rendition_objects(older_than, limit)
    if not orphans:
        return 0
    await deps.storage.delete([o.object_key for o in orphans])
    async with deps.uow() as repo:
        # only what is still an orphan: a commit may have adopted one meanwhile (then the
        # object is written again on the next action; the record stays for erasure)
        still = {o.object_key for o in await repo.orphan_rendition_objects(older_than, limit)}
        await repo.forget_rendition_objects([o.object_key for o in orphans
                                             if o.object_key in still])
    log.info("orphan_renditions_swept", count=len(orphans))
    return len(orphans)
