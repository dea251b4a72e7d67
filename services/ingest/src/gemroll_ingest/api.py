"""HTTP routes (FastAPI). Thin: authenticate, parse, call a use case, shape the answer.

Refusals answer in the common error shape (`gemroll_common.http.error_response`) with the
status their domain error stands for; invalid requests get the common 422.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import JSONResponse
from gemroll_common.auth import CurrentPrincipal
from gemroll_common.errors import StoreRefused
from gemroll_common.http import error_response
from gemroll_common.logging import get_logger
from pydantic import ValidationError

from .adapters.multipart import receive_upload
from .domain import errors
from .domain.media import ClientMetadata
from .domain.verdicts import MediaFilter, VerdictFilter
from .schemas import (
    MULTIPART_BODY,
    MediaFacets,
    MediaItem,
    MediaPage,
    UploadAccepted,
    UploadCreated,
    error_responses,
)
from .settings import IngestSettings
from .usecases import UseCases
from .usecases.upload import counted_outcome

log = get_logger(__name__)

MULTIPART_OVERHEAD = 64 * 1024
"""Room for boundaries and part headers when judging a declared Content-Length."""

STATUS: dict[type[errors.IngestError], int] = {
    errors.UnsupportedMediaType: 415,
    errors.MultipartRequired: 415,
    errors.TooLarge: 413,
    errors.EmptyFile: 422,
    errors.InvalidImage: 422,
    errors.InvalidVideo: 422,
    errors.VideoTooLong: 422,
    errors.TooManyPixels: 422,
    errors.InvalidMetadata: 422,
    errors.InvalidRequest: 400,
    errors.ConsentRequired: 403,
    errors.MediaNotFound: 404,
    errors.UploadNotFound: 404,
    errors.UploadExpired: 410,
    errors.UploadIncomplete: 409,
    errors.UploadClosed: 409,
    errors.UploadInProgress: 503,
    errors.InvalidCursor: 400,
    errors.StorageFull: 507,
    errors.StorageUnavailable: 503,
}
RETRY_LATER = {"Retry-After": "5"}


def ingest_of(request: Request) -> UseCases:
    return request.app.state.ingest  # type: ignore[no-any-return]


def settings_of(request: Request) -> IngestSettings:
    return request.app.state.ingest_settings  # type: ignore[no-any-return]


IngestDep = Annotated[UseCases, Depends(ingest_of)]
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
    """Before reading anything: over the larger (photo or video) limit. The kind's own limit is
    applied once the first bytes show it."""
    declared = request.headers.get("content-length")
    largest = max(settings.max_upload_bytes, settings.max_video_bytes)
    limit = largest + settings.max_metadata_bytes + MULTIPART_OVERHEAD
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.TooLarge(f"the file is larger than the limit of {largest} bytes")


@router.post(
    "/media", status_code=status.HTTP_201_CREATED, response_model=UploadAccepted,
    summary="Upload one photo or video (multipart, streamed)",
    responses={200: {"model": UploadAccepted, "description": "Duplicate of an earlier upload"},
               **error_responses(400, 403, 413, 415, 422, 503, 507)},
    openapi_extra=MULTIPART_BODY,
)
async def upload_media(
    request: Request, response: Response, principal: CurrentPrincipal, ingest: IngestDep,
    settings: SettingsDep,
) -> UploadAccepted:
    with counted_outcome():
        await ingest.uploads.require_consent(principal.user_key)
        _refuse_declared_oversize(request, settings)
        async with receive_upload(
            request.stream(), request.headers.get("content-type"),
            max_file_bytes=settings.max_upload_bytes,
            max_metadata_bytes=settings.max_metadata_bytes, spool_dir=settings.spool_dir,
            max_video_bytes=settings.max_video_bytes,
        ) as received:
            client = parse_metadata(received.metadata)
            result = await ingest.uploads.accept_direct(principal.user_key, received.staged,
                                                        client)
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return UploadAccepted.of(result)


@router.post(
    "/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadCreated,
    summary="Start a direct-to-storage upload (presigned PUT URL)",
    responses=error_responses(403, 422, 503),
)
async def create_upload(
    principal: CurrentPrincipal, ingest: IngestDep,
    metadata: Annotated[ClientMetadata | None, Body()] = None,
) -> UploadCreated:
    with counted_outcome():
        created = await ingest.presigned.create(principal.user_key,
                                                metadata or ClientMetadata())
    return UploadCreated.of(created)


@router.post(
    "/uploads/{upload_id}/complete", status_code=status.HTTP_201_CREATED,
    response_model=UploadAccepted, summary="Validate and accept a presigned upload",
    responses={200: {"model": UploadAccepted, "description": "Duplicate of an earlier upload"},
               **error_responses(403, 404, 409, 410, 413, 415, 422, 503, 507)},
)
async def complete_upload(
    upload_id: UUID, response: Response, principal: CurrentPrincipal, ingest: IngestDep,
) -> UploadAccepted:
    with counted_outcome():
        result = await ingest.presigned.complete(principal.user_key, upload_id)
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    return UploadAccepted.of(result)


@router.get("/media/facets", response_model=MediaFacets,
            summary="How the user's photos break down: gems, junk per reason, unclassified")
async def media_facets(principal: CurrentPrincipal, ingest: IngestDep) -> MediaFacets:
    return MediaFacets.of(await ingest.listing.facets(principal.user_key))


@router.get(
    "/media/{media_id}/preview", summary="A small upright JPEG with no metadata at all (a "
    "video's poster frame)",
    response_class=Response, responses={200: {"content": {"image/jpeg": {}}},
                                        **error_responses(404, 422, 503)},
)
async def media_preview(
    media_id: UUID, principal: CurrentPrincipal, ingest: IngestDep,
    size: Annotated[int, Query(ge=64, le=1024, description="Longer side, pixels.")] = 320,
) -> Response:
    data = await ingest.listing.preview(principal.user_key, media_id, size)
    return Response(data, media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/media/{media_id}/motion", summary="A motion photo's clip: its video stream as MP4, no "
    "metadata", response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}, **error_responses(404, 422, 503)},
)
async def media_motion_clip(media_id: UUID, principal: CurrentPrincipal,
                            ingest: IngestDep) -> Response:
    data = await ingest.listing.motion_clip(principal.user_key, media_id)
    return Response(data, media_type="video/mp4", headers={"Cache-Control": "private"})


@router.get("/media/{media_id}", response_model=MediaItem, summary="Metadata and pipeline "
            "status of one photo", responses=error_responses(404))
async def get_media(media_id: UUID, principal: CurrentPrincipal, ingest: IngestDep) -> MediaItem:
    return MediaItem.of(await ingest.listing.get(principal.user_key, media_id))


@router.get("/media", response_model=MediaPage,
            summary="The user's photos, newest first; filtered by verdict and reason",
            responses=error_responses(400))
async def list_media(
    principal: CurrentPrincipal, ingest: IngestDep, settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    verdict: Annotated[VerdictFilter | None, Query(
        description="`gem`, `junk` or `unclassified`.")] = None,
    reason: Annotated[str | None, Query(
        max_length=40, description="A reason's signal, e.g. `blurry` or `duplicate`.")] = None,
) -> MediaPage:
    page = await ingest.listing.page(principal.user_key, cursor,
                                     limit or settings.list_default_limit,
                                     MediaFilter(verdict=verdict, signal=reason))
    return MediaPage(items=[MediaItem.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a photo (announced as UserAction media_deleted; idempotent)",
               responses=error_responses(404))
async def delete_media(media_id: UUID, principal: CurrentPrincipal, ingest: IngestDep) -> Response:
    await ingest.deletion.delete(principal.user_key, media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _ingest_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.IngestError)
    status_code = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 400)
    log.info("request_refused", method=request.method,
             route=getattr(request.scope.get("route"), "path", None), status=status_code,
             code=exc.code)
    return error_response(status_code, exc.code, exc.message,
                          headers=RETRY_LATER if status_code in (503, 507) else None)


async def _store_refused(request: Request, exc: Exception) -> JSONResponse:
    """The object store refuses for good (access denied, no such bucket): misconfigured."""
    log.error("object_store_refused", path=request.url.path, error=str(exc)[:300])
    return error_response(500, "storage_misconfigured",
                          "the object store refused the request; this needs an operator")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.add_exception_handler(errors.IngestError, _ingest_error)
    app.add_exception_handler(StoreRefused, _store_refused)
