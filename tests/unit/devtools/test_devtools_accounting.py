"""The per-upload accounting of the reliability harness: every kind of missing or doubled
upload is found, named and given a timeline; a clean run has none."""

from __future__ import annotations

import uuid

from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    MEDIA_UPLOADED,
    Category,
    MediaClassified,
    MediaClassifiedData,
    ModelInfo,
)
from gemroll_testkit.events import uploaded
from gemroll_testkit.reliability.accounting import account_uploads
from gemroll_testkit.reliability.audit import Snapshot
from gemroll_testkit.reliability.driver import UploadRecord, User
from gemroll_testkit.topics import Record

USER = User("rawacct1", "ab" * 32, "token")


def classified(media_id: uuid.UUID) -> MediaClassified:
    return MediaClassified(producer="classifier", data=MediaClassifiedData(
        media_id=media_id, user_key=USER.key, bucket="gemroll-media",
        object_key=f"users/{USER.key}/media/{media_id}", width=4, height=3,
        category=Category.photo, gem_score=0.5, is_gem=False,
        model=ModelInfo(name="test", version="1")))


def snap(events: dict[str, list]) -> Snapshot:
    records, parsed = {}, {}
    for name in (MEDIA_UPLOADED.name, MEDIA_CLASSIFIED.name, "gemroll.suggestions.v1"):
        evs = events.get(name, [])
        records[name] = [Record(name, 0, n, None, e.model_dump_json().encode(), 1_700_000_000_000)
                         for n, e in enumerate(evs)]
        parsed[name] = evs
    return Snapshot(records, parsed)


def upload(n: int, status: int | None, media_id: uuid.UUID | None = None,
           refusal: str | None = None) -> UploadRecord:
    return UploadRecord(n, USER, tag=f"up{n}", media_id=str(media_id) if media_id else None,
                        status=status, refusal=refusal, attempts=1, started=1_700_000_000.0,
                        answered=1_700_000_001.0, answers=[status or "ConnectError"],
                        gave_up=None if status else "no success in 300s")


def test_a_clean_run_accounts_for_every_upload():
    a, b = uuid.uuid4(), uuid.uuid4()
    topics = snap({MEDIA_UPLOADED.name: [uploaded(USER.key, a), uploaded(USER.key, b)],
                   MEDIA_CLASSIFIED.name: [classified(a), classified(b)]})
    ledger = account_uploads([upload(0, 201, a), upload(1, 200, b)],
                             {str(a): USER.key, str(b): USER.key}, topics, all_valid=True,
                             logs=lambda: {})
    assert ledger.problems == []
    assert ledger.figures() == {"attempted": 2, "accounted": 2, "lost": 0, "duplicated": 0,
                                "unexplained": 0}
    assert ledger.states() == {"accepted, classified once, not suggested": 2}


def test_every_way_to_lose_or_double_an_upload_is_named_with_a_timeline():
    ok, unlisted, unclassified, twice, silent = (uuid.uuid4() for _ in range(5))
    topics = snap({
        MEDIA_UPLOADED.name: [uploaded(USER.key, m) for m in (ok, unclassified, twice, silent)],
        MEDIA_CLASSIFIED.name: [classified(ok), classified(twice), classified(twice),
                                classified(silent)]})
    listed = {str(m): USER.key for m in (ok, unclassified, twice, silent)}
    logs = {"ingest": f'{{"event": "media_accepted", "media_id": "{unclassified}", '
                      f'"request_id": "up3-a1", "timestamp": "2023-11-14T22:13:21Z"}}\n'
                      '{"event": "other"}\n'}
    ledger = account_uploads([
        upload(0, 201, ok), upload(1, 201, ok),  # two photos, one media id
        upload(2, 201, unlisted), upload(3, 201, unclassified), upload(4, 201, twice),
        upload(5, None), upload(6, 409, refusal="upload_in_progress: retry"),
    ], listed, topics, all_valid=True, logs=lambda: logs)
    problems = {e.upload: e.problem for e in ledger.problems}
    assert problems.keys() == {"up0", "up1", "up2", "up3", "up4", "up5", "up6",
                               f"stored:{str(silent)[:8]}"}
    assert problems["up2"].startswith("lost: answered with a media id")
    assert problems["up3"] == "lost: never classified"
    assert problems["up4"] == "duplicated: classified 2 times"
    assert problems["up5"].startswith("lost: no final answer")
    assert problems["up6"].startswith("refused: a valid photo was refused (upload_in_progress")
    assert ledger.figures()["lost"] == 3 and ledger.figures()["duplicated"] == 4
    [unclassified_end] = [e for e in ledger.problems if e.upload == "up3"]
    assert any("ingest: " in line and "media_accepted" in line
               for line in unclassified_end.timeline)
    assert any(MEDIA_UPLOADED.name in line for line in unclassified_end.timeline)
    assert "up3" in ledger.report(limit=20)


def test_a_refusal_of_an_invalid_photo_is_an_end_state_when_refusals_are_expected():
    ledger = account_uploads([upload(0, 422, refusal="invalid_image: truncated")], {},
                             snap({}), all_valid=False, logs=lambda: {})
    assert ledger.problems == []
    assert ledger.states() == {"refused 422 invalid_image": 1}
