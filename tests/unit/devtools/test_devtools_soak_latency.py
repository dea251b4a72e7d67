"""The soak's latencies: per stage from each upload's answer to the photo's first record
there (a redelivered, later record does not count), in upload order, with p50/p99 overall
and the p99 per tenth of the run."""

from __future__ import annotations

import types
import uuid

from gemroll_contracts import MEDIA_CLASSIFIED
from gemroll_dev.soak import stage_figures
from gemroll_testkit.reliability.audit import Snapshot
from gemroll_testkit.reliability.driver import UploadRecord, User
from gemroll_testkit.reliability.scenario import latencies
from gemroll_testkit.topics import Record

from .test_devtools_accounting import classified

USER = User("rawacct1", "ab" * 32, "token")
SUGGESTIONS = "gemroll.suggestions.v1"


def record(topic: str, at_s: float) -> Record:
    return Record(topic, 0, 0, None, b"{}", int(at_s * 1000))


def suggestion(media_ids: list[uuid.UUID]):
    return types.SimpleNamespace(data=types.SimpleNamespace(media_ids=media_ids))


def test_each_stage_counts_a_photos_first_record_from_its_upload_answer():
    a, b, never = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    uploads = [UploadRecord(0, USER, media_id=str(b), answered=1010.0),
               UploadRecord(1, USER, media_id=str(a), answered=1000.0),
               UploadRecord(2, USER, media_id=str(never), answered=1020.0),
               UploadRecord(3, USER, media_id=None, answered=1030.0)]  # refused
    snap = Snapshot(
        {MEDIA_CLASSIFIED.name: [record(MEDIA_CLASSIFIED.name, 1011.5),
                                 record(MEDIA_CLASSIFIED.name, 1000.5),
                                 record(MEDIA_CLASSIFIED.name, 1090.0)],  # a redelivery
         SUGGESTIONS: [record(SUGGESTIONS, 1004.0), record(SUGGESTIONS, 1013.0),
                       record(SUGGESTIONS, 1015.0)]},
        {MEDIA_CLASSIFIED.name: [classified(b), classified(a), classified(a)],
         SUGGESTIONS: [suggestion([a]), suggestion([a, b]), None]})
    driver = types.SimpleNamespace(uploads=uploads)

    got = latencies(driver, snap)  # type: ignore[arg-type]

    assert got == {"classified": [(0.0, 0.5), (10.0, 1.5)],
                   "suggested": [(0.0, 4.0), (10.0, 3.0)]}


def test_stage_figures_give_percentiles_and_the_p99_per_tenth():
    points = [(float(t), 1.0 if t < 50 else 9.0) for t in range(100)]
    figures = stage_figures({"classified": points, "suggested": []})
    assert figures["classified"]["p50_s"] in (1.0, 9.0)
    assert figures["classified"]["p99_s"] == 9.0
    assert figures["classified"]["p99_by_tenth_s"] == [1.0] * 5 + [9.0] * 5
    assert figures["suggested"] == {"p50_s": None, "p99_s": None, "samples": 0,
                                    "p99_by_tenth_s": []}
