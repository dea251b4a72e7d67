"""The rules that moved out of the use cases: how much an erasure takes, presigned-upload
states, paging and the pipeline stage."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_contracts import ConsentChangedData
from gemroll_ingest.domain import errors
from gemroll_ingest.domain.consent import ConsentState
from gemroll_ingest.domain.erasure import (
    account_erasure_cutoff,
    erases_account,
    opt_out_cutoff,
)
from gemroll_ingest.domain.media import ClientMetadata, MediaRecord
from gemroll_ingest.domain.paging import Cursor, page_of
from gemroll_ingest.domain.uploads import Upload, closed_refusal, fails_upload, past_completion

USER = "a" * 32
T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)


def change(*, camera_roll: bool, erase: bool, seq: int) -> ConsentChangedData:
    return ConsentChangedData(user_key=USER, camera_roll=camera_roll, training_opt_out=False,
                              erase_data=erase, ledger_seq=seq, changed_at=T0)


def state(camera_roll: bool, seq: int) -> ConsentState:
    return ConsentState(USER, camera_roll, False, seq, T0 + timedelta(minutes=seq))


def test_only_an_opt_out_asking_for_it_erases_the_account():
    assert erases_account(change(camera_roll=False, erase=True, seq=2))
    assert not erases_account(change(camera_roll=False, erase=False, seq=2))
    assert not erases_account(change(camera_roll=True, erase=True, seq=2))


def test_an_opt_out_erases_everything_unless_a_newer_position_is_projected():
    opt_out = change(camera_roll=False, erase=True, seq=2)
    assert opt_out_cutoff(opt_out, None) is None
    assert opt_out_cutoff(opt_out, state(False, 2)) is None  # this very change
    assert opt_out_cutoff(opt_out, state(True, 3)) == T0  # opted in since: what existed then


def test_an_account_erasure_spares_uploads_after_a_new_opt_in():
    assert account_erasure_cutoff(T0, None) is None
    assert account_erasure_cutoff(T0, state(False, 4)) is None
    assert account_erasure_cutoff(T0, state(True, 5)) == T0


def upload(state_: str = "pending", outcome: str | None = None) -> Upload:
    return Upload(upload_id=uuid.uuid4(), user_key=USER, staging_key="k", state=state_,
                  metadata=ClientMetadata(), expires_at=T0, outcome=outcome)


def test_an_upload_completes_until_its_grace_period_ends():
    assert not past_completion(upload(), 60, T0 + timedelta(seconds=60))
    assert past_completion(upload(), 60, T0 + timedelta(seconds=61))


def test_completing_a_closed_upload_says_why_it_is_closed():
    assert isinstance(closed_refusal(upload("expired", "expired")), errors.UploadExpired)
    refusal = closed_refusal(upload("failed", "invalid_image"))
    assert isinstance(refusal, errors.UploadClosed) and "invalid_image" in refusal.message


@pytest.mark.parametrize(("error", "fails"), [
    (errors.InvalidImage("corrupt"), True),
    (errors.ConsentRequired("opted out"), True),
    (errors.TooLarge("big"), True),
    (errors.UploadInProgress("same bytes"), False),
    (errors.StorageUnavailable("down"), False),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_only_retryable_refusals_leave_an_upload_pending(error, fails):
    assert fails_upload(error) is fails


def record(i: int, **changes) -> MediaRecord:
    base = MediaRecord(
        media_id=uuid.UUID(int=i), user_key=USER, object_key="k", content_type="image/jpeg",
        size_bytes=1, sha256="0" * 64, width=1, height=1, captured_at=None, camera_make=None,
        camera_model=None, orientation=None, coarse_location=None, device=None, album=None,
        gps=None, source="direct", state="accepted", created_at=T0 - timedelta(seconds=i))
    return replace(base, **changes)


def test_a_page_has_a_cursor_only_when_there_is_more():
    rows = [record(i) for i in range(3)]
    assert page_of(rows[:2], 2).next_cursor is None
    page = page_of(rows, 2)
    assert page.items == rows[:2]
    assert Cursor.decode(page.next_cursor) == Cursor(rows[1].created_at, rows[1].media_id)


def test_the_pipeline_stage_is_the_furthest_step_reached():
    assert record(1).pipeline_stage == "stored"
    assert record(1, announced_at=T0).pipeline_stage == "announced"
    assert record(1, announced_at=T0, classified_at=T0).pipeline_stage == "classified"
    assert record(1, classified_at=T0).pipeline_stage == "classified"  # the verdict overtook
