"""HTTP routes (FastAPI). Thin: authenticate, parse, call a use case, shape the answer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from gemroll_common.auth import CurrentPrincipal
from pydantic import BaseModel, Field, ValidationError

from .adapters.multipart import receive_upload
from .domain import errors
from .domain.media import ClientMetadata, MediaRecord
from .handlers import Accepted, Ingest, counted_outcome
from .settings import IngestSettings

MULTIPART_OVERHEAD = 64 * 1024
"""Room for boundaries and part headers when judging a declared Content-Length."""

STATUS: dict[type[errors.IngestError], int] = {
    errors.UnsupportedMediaType: 415,
    errors.MultipartRequired: 415,
    errors.TooLarge: 413,
    errors.EmptyFile: 422,
    errors.InvalidImage: 422,
    errors.TooManyPixels: 422,
    errors.InvalidMetadata: 422,
    errors.InvalidRequest: 400,
    errors.ConsentRequired: 403,
    errors.MediaNotFound: 404,
    errors.UploadNotFound: 404,
    errors.UploadExpired: 410,
    errors.UploadIncomplete: 409,
    errors.UploadClosed: 409,
    errors.UploadInProgress: 409,
    errors.InvalidCursor: 400,
    errors.StorageUnavailable: 503,
}


class ErrorBody(BaseModel):
    code: str = Field(examples=["consent_required"])
    message: str


class ErrorResponse(BaseModel):
    detail: ErrorBody


class UploadAccepted(BaseModel):
    media_id: UUID
    sha256: str = Field(description="SHA-256 of the stored bytes (hex).")
    status: Literal["accepted", "duplicate"] = Field(
        description="`accepted`: stored now (201). `duplicate`: this user already uploaded these "
        "bytes; the existing id is returned (200) and nothing is stored or announced again.")

    @classmethod
    def of(cls, result: Accepted) -> UploadAccepted:
        return cls(media_id=result.media_id, sha256=result.sha256,
                   status=result.status)  # type: ignore[arg-type]


class PipelineStatus(BaseModel):
    stage: Literal["stored", "announced", "classified"] = Field(
        description="`stored`: accepted, event waiting in the outbox; `announced`: MediaUploaded "
        "published; `classified`: the classifier's verdict arrived.")
    stored_at: datetime | None
    announced_at: datetime | None
    classified_at: datetime | None


class MediaItem(BaseModel):
    media_id: UUID
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    captured_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    orientation: int | None
    coarse_location: str | None = Field(description="Geohash of at most 5 characters.")
    device: str | None
    album: str | None
    created_at: datetime | None
    pipeline: PipelineStatus

    @classmethod
    def of(cls, r: MediaRecord) -> MediaItem:
        stage = "classified" if r.classified_at else "announced" if r.announced_at else "stored"
        return cls(
            media_id=r.media_id, sha256=r.sha256, content_type=r.content_type,
            size_bytes=r.size_bytes, width=r.width, height=r.height, captured_at=r.captured_at,
            camera_make=r.camera_make, camera_model=r.camera_model, orientation=r.orientation,
            coarse_location=r.coarse_location, device=r.device, album=r.album,
            created_at=r.created_at,
            pipeline=PipelineStatus(stage=stage, stored_at=r.created_at,  # type: ignore[arg-type]
                                    announced_at=r.announced_at, classified_at=r.classified_at),
        )


class MediaPage(BaseModel):
    items: list[MediaItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at "
                                    "the end.")


class UploadCreated(BaseModel):
    upload_id: UUID
    url: str = Field(description="Presigned URL: PUT the file's bytes here, then call "
                     "`POST /v1/uploads/{upload_id}/complete`.")
    method: Literal["PUT"] = "PUT"
    expires_at: datetime


MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "The photo: JPEG, PNG, HEIC/HEIF or WebP (judged by "
                         "its bytes)."},
                "metadata": {"type": "string", "description": "Optional JSON: "
                             '{"captured_at": "<ISO 8601 with zone>", "device": "...", '
                             '"album": "..."}'},
            },
        }}},
    }
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in (401, *codes)}


def ingest_of(request: Request) -> Ingest:
    return request.app.state.ingest  # type: ignore[no-any-return]


def settings_of(request: Request) -> IngestSettings:
    return request.app.state.ingest_settings  # type: ignore[no-any-return]


IngestDep = Annotated[Ingest, Depends(ingest_of)]
SettingsDep = Annotated[IngestSettings, Depends(settings_of)]

router = APIRouter(prefix="/v1", tags=["media"])


def parse_metadata(raw: bytes | None) -> ClientMetadata:
    if not raw:
        return ClientMetadata()
    try:
        return ClientMetadata.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'metadata'}: {e['msg']}"
                             for e in exc.errors())
        raise errors.InvalidMetadata(f"invalid metadata: {problems}") from None


def _refuse_declared_oversize(request: Request, settings: IngestSettings) -> None:
    declared = request.headers.get("content-length")
    limit = settings.max_upload_bytes + settings.max_metadata_bytes + MULTIPART_OVERHEAD
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.TooLarge(
            f"the file is larger than the limit of {settings.max_upload_bytes} bytes")


@router.post(
    "/media", status_code=status.HTTP_201_CREATED, response_model=UploadAccepted,
    summary="Upload one photo (multipart, streamed)",
    responses={200: {"model": UploadAccepted, "description": "Duplicate of an earlier upload"},
               **_errors(400, 403, 413, 415, 422, 409, 503)},
    openapi_extra=MULTIPART_BODY,
)
async def upload_media(
    request: Request, response: Response, principal: CurrentPrincipal, ingest: IngestDep,
    settings: SettingsDep,
) -> UploadAccepted:
    with counted_outcome():
        await ingest.require_consent(principal.user_key)
        _refuse_declared_oversize(request, settings)
        async with receive_upload(
            request.stream(), request.headers.get("content-type"),
            max_file_bytes=settings.max_upload_bytes,
            max_metadata_bytes=settings.max_metadata_bytes, spool_dir=settings.spool_dir,
        ) as received:
            client = parse_metadata(received.metadata)
            result = await ingest.accept_direct(principal.user_key, received.staged, client)
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return UploadAccepted.of(result)


@router.post(
    "/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadCreated,
    summary="Start a direct-to-storage upload (presigned PUT URL)",
    responses=_errors(403, 422, 503),
)
async def create_upload(
    principal: CurrentPrincipal, ingest: IngestDep,
    metadata: Annotated[ClientMetadata | None, Body()] = None,
) -> UploadCreated:
    with counted_outcome():
        created = await ingest.create_upload(principal.user_key, metadata or ClientMetadata())
    return UploadCreated(upload_id=created.upload_id, url=created.url,
                         expires_at=created.expires_at)


@router.post(
    "/uploads/{upload_id}/complete", status_code=status.HTTP_201_CREATED,
    response_model=UploadAccepted, summary="Validate and accept a presigned upload",
    responses={200: {"model": UploadAccepted, "description": "Duplicate of an earlier upload"},
               **_errors(403, 404, 409, 410, 413, 415, 422, 503)},
)
async def complete_upload(
    upload_id: UUID, response: Response, principal: CurrentPrincipal, ingest: IngestDep,
) -> UploadAccepted:
    with counted_outcome():
        result = await ingest.complete_upload(principal.user_key, upload_id)
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return UploadAccepted.of(result)


@router.get("/media/{media_id}", response_model=MediaItem, summary="Metadata and pipeline "
            "status of one photo", responses=_errors(404))
async def get_media(media_id: UUID, principal: CurrentPrincipal, ingest: IngestDep) -> MediaItem:
    return MediaItem.of(await ingest.get_media(principal.user_key, media_id))


@router.get("/media", response_model=MediaPage, summary="The user's photos, newest first",
            responses=_errors(400))
async def list_media(
    principal: CurrentPrincipal, ingest: IngestDep, settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> MediaPage:
    page = await ingest.list_media(principal.user_key, cursor,
                                   limit or settings.list_default_limit)
    return MediaPage(items=[MediaItem.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a photo (announced as UserAction media_deleted; idempotent)",
               responses=_errors(404))
async def delete_media(media_id: UUID, principal: CurrentPrincipal, ingest: IngestDep) -> Response:
    await ingest.delete_media(principal.user_key, media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _error_response(status_code: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": {"code": code, "message": message, **extra}},
                        status_code=status_code)


async def _ingest_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.IngestError)
    status_code = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 400)
    return _error_response(status_code, exc.code, exc.message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    message = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)
    return _error_response(422, "invalid_request", message or "invalid request",
                           errors=json.loads(json.dumps(problems, default=str)))


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.add_exception_handler(errors.IngestError, _ingest_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
