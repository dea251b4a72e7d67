"""The tamper-evident audit log: a hash chain of records.

One record holds the entries of one subject (user pseudonym) written in one transaction, in
order: each entry is `{"kind": ..., **details}` (admitted, rejected, retracted, erased,
consent_changed). row_hash = sha256(prev_hash + canonical_json(record)); the first record's
prev_hash is 64 zeros. Changing, removing or reordering anything breaks every later hash, and
`seq` has no gaps. Entries hold ids, reasons and times only: no content, no object keys, and
users appear by their training pseudonym.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    kind: str
    subject: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    recorded_at: datetime
    subject: str | None
    entries: list[dict[str, Any]]
    prev_hash: str
    row_hash: str
    entries_json: str = ""
    """The entries' canonical JSON, as hashed (set when the record is created)."""


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical(seq: int, recorded_at: datetime, subject: str | None,
              entries: list[dict[str, Any]] | str) -> str:
    """The record as canonical JSON (sorted keys, no spaces); `entries` may come as their
    canonical JSON already."""
    entries_json = entries if isinstance(entries, str) else canonical_json(entries)
    # the same text as canonical_json({...}) of the whole record, without encoding twice
    return (f'{{"entries":{entries_json},"recorded_at":"{timestamp(recorded_at)}",'
            f'"seq":{seq},"subject":{canonical_json(subject)}}}')


def record_hash(prev_hash: str, seq: int, recorded_at: datetime, subject: str | None,
                entries: list[dict[str, Any]] | str) -> str:
    text = prev_hash + canonical(seq, recorded_at, subject, entries)
    return hashlib.sha256(text.encode()).hexdigest()


def group(entries: Iterable[AuditEntry]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Entries by subject, subjects and entries in first-seen order."""
    grouped: dict[str | None, list[dict[str, Any]]] = {}
    for e in entries:
        grouped.setdefault(e.subject, []).append({"kind": e.kind, **e.body})
    return list(grouped.items())


def chain(entries: Iterable[AuditEntry], *, after_seq: int, prev_hash: str,
          recorded_at: datetime) -> list[AuditRecord]:
    """Records for new entries, linked after the record (`after_seq`, `prev_hash`)."""
    out: list[AuditRecord] = []
    for offset, (subject, items) in enumerate(group(entries), start=1):
        seq = after_seq + offset
        items_json = canonical_json(items)
        row_hash = record_hash(prev_hash, seq, recorded_at, subject, items_json)
        out.append(AuditRecord(seq, recorded_at, subject, items, prev_hash, row_hash,
                               items_json))
        prev_hash = row_hash
    return out


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(records: list[AuditRecord], *, prev_hash: str = GENESIS,
           after_seq: int = 0) -> ChainCheck:
    """Check records given in `seq` order (all of them, or those after a trusted record)."""
    expected_seq = after_seq + 1
    for r in records:
        if r.seq != expected_seq:
            return ChainCheck(False, len(records), r.seq, f"expected seq {expected_seq}")
        if r.prev_hash != prev_hash:
            return ChainCheck(False, len(records), r.seq, "prev_hash does not match")
        if record_hash(prev_hash, r.seq, r.recorded_at, r.subject, r.entries) != r.row_hash:
            return ChainCheck(False, len(records), r.seq, "row_hash does not match the record")
        prev_hash = r.row_hash
        expected_seq += 1
    return ChainCheck(True, len(records))
