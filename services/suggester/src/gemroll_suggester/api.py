"""HTTP API: a user's own suggestions, their previews, and actions on them.

Every route needs a bearer token; a suggestion of another user answers 404, exactly like a
missing one. Errors are `{"detail": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from gemroll_common.auth import CurrentPrincipal
from gemroll_common.http import error_response
from gemroll_contracts import EditRecipe, SuggestionKind
from pydantic import BaseModel, ConfigDict, Field

from .domain import ActionName, ActionRefused, SuggestionRecord, SuggestionStatus
from .share_api import share_path
from .usecases import Deps, recaps, sharing, user_actions

router = APIRouter(prefix="/v1/suggestions", tags=["suggestions"])


class ErrorDetail(BaseModel):
    """The common error shape (`gemroll_common.http.error_response`)."""

    code: str
    message: str


class ErrorBody(BaseModel):
    detail: ErrorDetail


class SuggestionOut(BaseModel):
    id: UUID
    kind: SuggestionKind
    revision: int = Field(description="Grows when late or removed photos change the suggestion.")
    status: SuggestionStatus
    title: str
    media_ids: list[UUID]
    created_at: datetime
    updated_at: datetime
    event_start: datetime | None
    event_end: datetime | None
    shareable: bool = Field(description="False when a photo may not be shared (NSFW).")
    recipe: EditRecipe | None = Field(description="The auto-enhance recipe of an edit.")
    actions: list[ActionName] = Field(description="Actions the user has taken on it.")
    preview_url: str | None = Field(description="The rendered preview, when there is one.")
    occasion: str | None = Field(default=None, description="`on_this_day`: a highlight of an "
                                 "event from this date in an earlier year.")
    recap_url: str | None = Field(default=None, description="A highlight's recap movie (MP4), "
                                  "made on first request.")

    @classmethod
    def of(cls, s: SuggestionRecord) -> SuggestionOut:
        return cls(
            id=s.suggestion_id, kind=s.kind, revision=s.revision, status=s.status, title=s.title,
            media_ids=list(s.media_ids), created_at=s.created_at, updated_at=s.updated_at,
            event_start=s.event_start, event_end=s.event_end, shareable=s.shareable,
            recipe=s.recipe, actions=sorted(s.actions),
            preview_url=f"/v1/suggestions/{s.suggestion_id}/preview"
            if s.preview_object_key else None, occasion=s.occasion,
            recap_url=f"/v1/suggestions/{s.suggestion_id}/recap"
            if s.preview_object_key and s.kind is SuggestionKind.highlight else None,
        )


class SuggestionPage(BaseModel):
    items: list[SuggestionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: ActionName = Field(examples=["save"])


class ActionOut(BaseModel):
    action: ActionName
    applied: bool = Field(description="False when the action had been taken already.")
    derived_media_id: UUID | None = Field(
        description="The stored AI-edited rendition (edit suggestions)."
    )
    suggestion: SuggestionOut
    share_url: str | None = Field(
        default=None, description="`share`: the public link to what was shared (`/s/<token>` "
        "on this service); anyone holding it sees it, without metadata, until `unshare`.")


def _deps(request: Request) -> Deps:
    return request.app.state.deps


_ERRORS = {
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token."},
    404: {"model": ErrorBody, "description": "No such suggestion of yours."},
}


@router.get("", response_model=SuggestionPage, responses={401: _ERRORS[401]})
async def list_suggestions(
    request: Request,
    principal: CurrentPrincipal,
    status_: Annotated[SuggestionStatus | None, Query(alias="status")] = None,
    kind: SuggestionKind | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SuggestionPage:
    """Your suggestions, newest first (withdrawn ones only when asked for by status)."""
    items, next_cursor = await user_actions.list_suggestions(
        _deps(request), principal.user_key, status=status_, kind=kind, limit=limit,
        cursor=cursor)
    return SuggestionPage(items=[SuggestionOut.of(s) for s in items], next_cursor=next_cursor)


@router.get("/{suggestion_id}", response_model=SuggestionOut, responses=_ERRORS)
async def get_suggestion(request: Request, principal: CurrentPrincipal,
                         suggestion_id: UUID) -> SuggestionOut:
    found = await user_actions.get_suggestion(_deps(request), principal.user_key, suggestion_id)
    return SuggestionOut.of(found)


_JPEG = {200: {"content": {"image/jpeg": {}}, "description": "JPEG image."}, **_ERRORS}


@router.get("/{suggestion_id}/preview", response_class=Response, responses=_JPEG)
async def get_preview(request: Request, principal: CurrentPrincipal,
                      suggestion_id: UUID) -> Response:
    """The rendered preview: the enhanced photo, the highlight's cover, or the collage."""
    data, revision = await user_actions.preview(_deps(request), principal.user_key,
                                                suggestion_id)
    return Response(data, media_type="image/jpeg", headers={
        "Cache-Control": "private, max-age=300", "ETag": f'"{suggestion_id}-r{revision}"'})


@router.get("/{suggestion_id}/rendition", response_class=Response, responses=_JPEG)
async def get_rendition(request: Request, principal: CurrentPrincipal,
                        suggestion_id: UUID) -> Response:
    """The full-size AI edit, once the edit was applied, saved or shared."""
    data = await user_actions.rendition(_deps(request), principal.user_key, suggestion_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private"})


_MP4 = {200: {"content": {"video/mp4": {}}, "description": "MP4 movie (H.264)."}, **_ERRORS}


@router.get("/{suggestion_id}/recap", response_class=Response, responses=_MP4)
async def get_recap(request: Request, principal: CurrentPrincipal,
                    suggestion_id: UUID) -> Response:
    """A highlight's recap movie: a title card, its photos with a slow zoom and its videos'
    best moments. Made on the first request (a few seconds), then kept."""
    data, revision = await recaps.recap_movie(_deps(request), principal.user_key,
                                              suggestion_id)
    return Response(data, media_type="video/mp4", headers={
        "Cache-Control": "private, max-age=300", "ETag": f'"{suggestion_id}-r{revision}-mp4"'})


class MomentOut(BaseModel):
    media_id: UUID
    start_s: float
    end_s: float
    url: str = Field(description="The video trimmed to this moment (MP4, no re-encoding).")


@router.get("/{suggestion_id}/moments", response_model=list[MomentOut], responses=_ERRORS)
async def get_moments(request: Request, principal: CurrentPrincipal,
                      suggestion_id: UUID) -> list[MomentOut]:
    """The best moment (3-6 s) of each video in the suggestion."""
    found = await recaps.moments(_deps(request), principal.user_key, suggestion_id)
    return [MomentOut(media_id=m.media_id, start_s=m.start_s, end_s=m.end_s,
                      url=f"/v1/suggestions/{suggestion_id}/moments/{m.media_id}")
            for m in found]


@router.get("/{suggestion_id}/moments/{media_id}", response_class=Response, responses=_MP4)
async def get_moment(request: Request, principal: CurrentPrincipal, suggestion_id: UUID,
                     media_id: UUID) -> Response:
    """A video of the suggestion trimmed to its best moment, from key frame to key frame."""
    data = await recaps.moment_clip(_deps(request), principal.user_key, suggestion_id, media_id)
    return Response(data, media_type="video/mp4", headers={"Cache-Control": "private"})


@router.post("/{suggestion_id}/actions", response_model=ActionOut, responses={
    **_ERRORS, 409: {"model": ErrorBody, "description": "Not allowed in the current state."}})
async def post_action(request: Request, principal: CurrentPrincipal, suggestion_id: UUID,
                      body: ActionIn) -> ActionOut:
    """`save`, `share` (answers the public `share_url`), `edit` (apply the AI edit), `dismiss`
    or `unshare` (take a share back: its links close, one `unshared` user action per photo;
    409 `not_shared` if it was never shared).
    Repeating an action is harmless: it answers `applied: false` and publishes nothing."""
    result = await user_actions.act(_deps(request), principal.user_key, suggestion_id,
                                    body.action)
    link = (await sharing.link_for(_deps(request), principal.user_key, suggestion_id)
            if body.action is ActionName.share else None)
    return ActionOut(action=result.action, applied=result.applied,
                     derived_media_id=result.derived_media_id,
                     suggestion=SuggestionOut.of(result.suggestion),
                     share_url=share_path(link) if link else None)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    """The use cases' refusals in the common error shape."""
    if isinstance(exc, user_actions.NotFound):
        return error_response(404, "suggestion_not_found", f"no suggestion {exc}")
    if isinstance(exc, user_actions.ImageMissing):
        return error_response(404, exc.code, exc.message)
    if isinstance(exc, ActionRefused):
        return error_response(409, exc.code, exc.message)
    return error_response(400, "invalid_cursor", str(exc))


def install(app: FastAPI) -> None:
    """The routes; invalid requests answer 422 through the common handler."""
    app.include_router(router)
    for refusal in (user_actions.NotFound, user_actions.ImageMissing, ActionRefused,
                    user_actions.InvalidCursor):
        app.add_exception_handler(refusal, _refused)
