"""HTTP API: a user's own suggestions, their previews, and actions on them.

Every route needs a bearer token; a suggestion of another user answers 404, exactly like a
missing one. Errors are `{"detail": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from gemroll_common.auth import CurrentPrincipal
from gemroll_contracts import EditRecipe, SuggestionKind
from pydantic import BaseModel, ConfigDict, Field

from . import user_actions
from .domain import ActionName, ActionRefused, SuggestionRecord, SuggestionStatus
from .handlers import Deps

router = APIRouter(prefix="/v1/suggestions", tags=["suggestions"])


class ErrorDetail(BaseModel):
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

    @classmethod
    def of(cls, s: SuggestionRecord) -> SuggestionOut:
        return cls(
            id=s.suggestion_id, kind=s.kind, revision=s.revision, status=s.status, title=s.title,
            media_ids=list(s.media_ids), created_at=s.created_at, updated_at=s.updated_at,
            event_start=s.event_start, event_end=s.event_end, shareable=s.shareable,
            recipe=s.recipe, actions=sorted(s.actions),
            preview_url=f"/v1/suggestions/{s.suggestion_id}/preview"
            if s.preview_object_key else None,
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


def _deps(request: Request) -> Deps:
    return request.app.state.deps


def _error(code: int, err: str, message: str) -> HTTPException:
    return HTTPException(code, detail={"code": err, "message": message})


def _not_found(suggestion_id: UUID) -> HTTPException:
    return _error(status.HTTP_404_NOT_FOUND, "suggestion_not_found",
                  f"no suggestion {suggestion_id}")


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
    try:
        items, next_cursor = await user_actions.list_suggestions(
            _deps(request), principal.user_key, status=status_, kind=kind, limit=limit,
            cursor=cursor)
    except user_actions.InvalidCursor as exc:
        raise _error(status.HTTP_400_BAD_REQUEST, "invalid_cursor", str(exc)) from None
    return SuggestionPage(items=[SuggestionOut.of(s) for s in items], next_cursor=next_cursor)


@router.get("/{suggestion_id}", response_model=SuggestionOut, responses=_ERRORS)
async def get_suggestion(request: Request, principal: CurrentPrincipal,
                         suggestion_id: UUID) -> SuggestionOut:
    try:
        found = await user_actions.get_suggestion(_deps(request), principal.user_key,
                                                  suggestion_id)
    except user_actions.NotFound:
        raise _not_found(suggestion_id) from None
    return SuggestionOut.of(found)


_JPEG = {200: {"content": {"image/jpeg": {}}, "description": "JPEG image."}, **_ERRORS}


@router.get("/{suggestion_id}/preview", response_class=Response, responses=_JPEG)
async def get_preview(request: Request, principal: CurrentPrincipal,
                      suggestion_id: UUID) -> Response:
    """The rendered preview: the enhanced photo, the highlight's cover, or the collage."""
    try:
        data, revision = await user_actions.preview(_deps(request), principal.user_key,
                                                    suggestion_id)
    except user_actions.NotFound:
        raise _not_found(suggestion_id) from None
    except user_actions.PreviewMissing:
        raise _error(status.HTTP_404_NOT_FOUND, "preview_not_available",
                     "this suggestion has no preview (yet)") from None
    return Response(data, media_type="image/jpeg", headers={
        "Cache-Control": "private, max-age=300", "ETag": f'"{suggestion_id}-r{revision}"'})


@router.get("/{suggestion_id}/rendition", response_class=Response, responses=_JPEG)
async def get_rendition(request: Request, principal: CurrentPrincipal,
                        suggestion_id: UUID) -> Response:
    """The full-size AI edit, once the edit was applied, saved or shared."""
    try:
        data = await user_actions.rendition(_deps(request), principal.user_key, suggestion_id)
    except user_actions.NotFound:
        raise _not_found(suggestion_id) from None
    except user_actions.PreviewMissing:
        raise _error(status.HTTP_404_NOT_FOUND, "rendition_not_available",
                     "no AI-edited rendition was made for this suggestion") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private"})


@router.post("/{suggestion_id}/actions", response_model=ActionOut, responses={
    **_ERRORS, 409: {"model": ErrorBody, "description": "Not allowed in the current state."}})
async def post_action(request: Request, principal: CurrentPrincipal, suggestion_id: UUID,
                      body: ActionIn) -> ActionOut:
    """`save`, `share`, `edit` (apply the AI edit), `dismiss` or `unshare` (take a share
    back: one `unshared` user action per photo; 409 `not_shared` if it was never shared).
    Repeating an action is harmless: it answers `applied: false` and publishes nothing."""
    try:
        result = await user_actions.act(_deps(request), principal.user_key, suggestion_id,
                                        body.action)
    except user_actions.NotFound:
        raise _not_found(suggestion_id) from None
    except ActionRefused as exc:
        raise _error(status.HTTP_409_CONFLICT, exc.code, exc.message) from None
    return ActionOut(action=result.action, applied=result.applied,
                     derived_media_id=result.derived_media_id,
                     suggestion=SuggestionOut.of(result.suggestion))


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(status_code=422, content={"detail": {
            "code": "invalid_request",
            "message": f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request",
        }})
