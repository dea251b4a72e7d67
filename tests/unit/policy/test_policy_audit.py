"""The audit hash chain on its own."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from gemroll_policy.domain.audit import (
    GENESIS,
    AuditEntry,
    canonical,
    chain,
    timestamp,
    verify,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def entries() -> list[AuditEntry]:
    return [AuditEntry("admitted", "s1", {"candidate_id": "c1"}),
            AuditEntry("rejected", "s2", {"candidate_id": "c2", "reason": "not_opted_in"}),
            AuditEntry("retracted", "s1", {"candidate_id": "c1", "reason": "unshared"})]


def test_one_record_per_subject_in_first_seen_order():
    records = chain(entries(), after_seq=0, prev_hash=GENESIS, recorded_at=NOW)
    assert [(r.seq, r.subject) for r in records] == [(1, "s1"), (2, "s2")]
    assert [e["kind"] for e in records[0].entries] == ["admitted", "retracted"]
    assert records[0].prev_hash == GENESIS and records[1].prev_hash == records[0].row_hash
    assert verify(records).ok


def test_canonical_form_is_sorted_compact_json_of_the_whole_record():
    record = {"seq": 7, "recorded_at": timestamp(NOW), "subject": None,
              "entries": [{"kind": "x", "b": [1, "é"], "a": None}]}
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical(7, NOW, None, record["entries"]) == expected


def test_any_change_breaks_the_chain():
    records = chain(entries(), after_seq=0, prev_hash=GENESIS, recorded_at=NOW)
    later = chain([AuditEntry("erased", "s3", {"media_id": "m"})], after_seq=2,
                  prev_hash=records[-1].row_hash, recorded_at=NOW)
    full = records + later
    assert verify(full).ok
    edited = [replace(full[0], entries=[{**full[0].entries[0], "candidate_id": "c9"}]),
              *full[1:]]
    assert verify(edited).first_bad_seq == 1
    assert verify([full[0], full[2]]).first_bad_seq == 3  # a record removed
    assert verify([full[1], full[0], full[2]]).ok is False  # reordered
    moved = [replace(full[0], recorded_at=NOW.replace(year=2024)), *full[1:]]
    assert verify(moved).first_bad_seq == 1
    # a suffix verifies from a trusted record
    assert verify(later, prev_hash=records[-1].row_hash, after_seq=2).ok
