"""The tamper-evident audit log: every entry's hash covers the previous entry's hash.

row_hash = sha256(prev_hash + canonical_json(entry)); the first entry's prev_hash is 64
zeros. Changing, removing or reordering any entry breaks every later hash, and `seq` has no
gaps. Entries hold ids, reasons and times only: no content, no object keys, and users appear
by their training pseudonym (`subject`).
"""

from __future__ import annotations

import hashlib
import json
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
class ChainedEntry:
    seq: int
    recorded_at: datetime
    kind: str
    subject: str | None
    body: dict[str, Any]
    prev_hash: str
    row_hash: str


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, recorded_at: datetime, kind: str, subject: str | None,
              body: dict[str, Any]) -> str:
    return json.dumps(
        {"seq": seq, "recorded_at": timestamp(recorded_at), "kind": kind, "subject": subject,
         "body": body},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )


def chain_hash(prev_hash: str, seq: int, recorded_at: datetime, kind: str, subject: str | None,
               body: dict[str, Any]) -> str:
    text = prev_hash + canonical(seq, recorded_at, kind, subject, body)
    return hashlib.sha256(text.encode()).hexdigest()


def chain(entries: list[AuditEntry], *, after_seq: int, prev_hash: str,
          recorded_at: datetime) -> list[ChainedEntry]:
    """Link new entries after the entry (`after_seq`, `prev_hash`)."""
    out: list[ChainedEntry] = []
    for offset, entry in enumerate(entries, start=1):
        seq = after_seq + offset
        row_hash = chain_hash(prev_hash, seq, recorded_at, entry.kind, entry.subject, entry.body)
        out.append(ChainedEntry(seq, recorded_at, entry.kind, entry.subject, entry.body,
                                prev_hash, row_hash))
        prev_hash = row_hash
    return out


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(entries: list[ChainedEntry], *, prev_hash: str = GENESIS,
           after_seq: int = 0) -> ChainCheck:
    """Check entries given in `seq` order (all of them, or a suffix after a trusted entry)."""
    expected_seq = after_seq + 1
    for e in entries:
        if e.seq != expected_seq:
            return ChainCheck(False, len(entries), e.seq, f"expected seq {expected_seq}")
        if e.prev_hash != prev_hash:
            return ChainCheck(False, len(entries), e.seq, "prev_hash does not match")
        if chain_hash(prev_hash, e.seq, e.recorded_at, e.kind, e.subject, e.body) != e.row_hash:
            return ChainCheck(False, len(entries), e.seq, "row_hash does not match the entry")
        prev_hash = e.row_hash
        expected_seq += 1
    return ChainCheck(True, len(entries))
