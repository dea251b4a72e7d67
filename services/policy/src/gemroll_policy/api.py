"""HTTP API: the consent ledger and the training report, for the token's user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import JSONResponse
from gemroll_common.auth import CurrentPrincipal
from gemroll_common.errors import is_transient
from gemroll_common.http import error_response
from gemroll_common.logging import get_logger
from pydantic import BaseModel, ConfigDict, Field

from . import metrics
from .domain import Consent
from .usecases import ConsentError, ConsentHandler, ReportHandler

log = get_logger(__name__)
router = APIRouter(prefix="/v1", tags=["policy"])
T = TypeVar("T")


class ConsentView(BaseModel):
    camera_roll: bool = Field(description="Opted in to camera-roll uploads and suggestions. "
                              "False when nothing was ever recorded (fail closed).")
    training_opt_out: bool = Field(description="Opted out of any use for AI training.")
    ledger_seq: int = Field(ge=0, description="Entries in your consent ledger (0: none yet).")
    changed_at: datetime | None = None

    @classmethod
    def of(cls, consent: Consent | None) -> ConsentView:
        if consent is None:
            return cls(camera_roll=False, training_opt_out=False, ledger_seq=0)
        return cls(camera_roll=consent.camera_roll, training_opt_out=consent.training_opt_out,
                   ledger_seq=consent.ledger_seq, changed_at=consent.changed_at)


class ConsentChangeView(ConsentView):
    in_effect: bool = Field(description="Every service acts on this consent already: an upload "
                            "right after an opt-in is accepted, an action right after an opt-out "
                            "refused. False only when a service is slow or down; the change is "
                            "recorded either way and takes effect as soon as it catches up.")
    waiting_for: list[str] = Field(default_factory=list,
                                   description="Services that had not caught up yet.")


class ConsentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_roll: bool | None = Field(default=None, description="Leave out to keep as is.")
    training_opt_out: bool | None = Field(default=None, description="Leave out to keep as is.")
    erase_data: bool = Field(
        default=False, description="With camera_roll=false: also erase all your media, "
        "its previews and AI renditions (opt-out-with-delete).")


class ReportEntry(BaseModel):
    candidate_id: UUID
    media_id: UUID
    derived_media_id: UUID | None
    source: str = Field(description="classifier (your photo) or suggester (an AI rendition).")
    status: str = Field(description="admitted, or retracted (removed from training sets).")
    basis: str = Field(description="Why it was admitted: edited_with_ai or shared.")
    evidence: list[UUID] = Field(description="Ids of your actions that admitted it.")
    policy_version: str
    admitted_at: datetime
    retracted_at: datetime | None
    retraction_reason: str | None


class ErasedEntry(BaseModel):
    media_id: UUID
    reason: str
    erased_at: datetime


class TrainingReportView(BaseModel):
    items: list[ReportEntry] = Field(description="Every item ever admitted for training.")
    erased: list[ErasedEntry] = Field(description="Media erased for you, and why.")


class ConsentStoreUnavailable(Exception):
    """The consent store cannot be reached: the answer is 503, never a guess about consent."""


async def _guarded(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except Exception as exc:
        if is_transient(exc):
            metrics.CONSENT_STORE_UP.set(0)
            log.warning("consent_store_unavailable", error_type=type(exc).__name__)
            raise ConsentStoreUnavailable from None
        raise


async def _unavailable(_: Request, __: Exception) -> JSONResponse:
    return error_response(503, "consent_store_unavailable",
                          "the consent store cannot be reached; try again shortly",
                          headers={"Retry-After": "5"})


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConsentError)
    return error_response(422, exc.code, str(exc))


def _consent(request: Request) -> ConsentHandler:
    return request.app.state.consent_handler


@router.get("/consent", response_model=ConsentView)
async def get_consent(principal: CurrentPrincipal, request: Request) -> ConsentView:
    """Your current consent. With nothing on record you are not opted in."""
    consent = await _guarded(lambda: _consent(request).current(principal.user_key))
    return ConsentView.of(consent)


@router.put("/consent", response_model=ConsentChangeView, responses={
    422: {"description": "Invalid change (e.g. erase_data without camera_roll=false)."},
    503: {"description": "Consent store unreachable."}})
async def put_consent(
    principal: CurrentPrincipal, request: Request,
    update: Annotated[ConsentUpdate, Body(examples=[{"camera_roll": True},
                                                    {"training_opt_out": True},
                                                    {"camera_roll": False, "erase_data": True}])],
) -> ConsentChangeView:
    """Change your consent. Every change is appended to your ledger and takes effect at once:
    the answer comes once every service acts on it (`in_effect`); opting out retracts what was
    admitted for training, and erase_data erases your media."""
    consent, applied = await _guarded(lambda: _consent(request).change_in_effect(
        principal.user_key, camera_roll=update.camera_roll,
        training_opt_out=update.training_opt_out, erase_data=update.erase_data))
    return ConsentChangeView(**ConsentView.of(consent).model_dump(), in_effect=applied.in_effect,
                             waiting_for=list(applied.waiting_for))


@router.get("/me/training-report", response_model=TrainingReportView)
async def training_report(principal: CurrentPrincipal, request: Request) -> TrainingReportView:
    """Every item of yours admitted for AI training, with its basis and time, whether it was
    retracted since, and the media erased for you."""
    handler: ReportHandler = request.app.state.report_handler
    report = await _guarded(lambda: handler.report(principal.user_key))
    return TrainingReportView(
        items=[ReportEntry(**vars(i)) for i in report.items],
        erased=[ErasedEntry(**vars(e)) for e in report.erased],
    )


def install(app: FastAPI) -> None:
    """The routes and their errors, in the common shape (the 422 of an invalid request is
    the kit's, see `gemroll_common.http`)."""
    app.include_router(router)
    app.add_exception_handler(ConsentError, _refused)
    app.add_exception_handler(ConsentStoreUnavailable, _unavailable)
