"""The user's training report, read from the tamper-evident audit log: every item ever
admitted for training (and whether it was retracted since), and the media erased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ..domain import AuditRecord, Pseudonymizer
from ..ports import AuditReader


@dataclass
class ReportItem:
    candidate_id: UUID
    media_id: UUID
    derived_media_id: UUID | None
    source: str
    basis: str
    evidence: list[UUID]
    policy_version: str
    admitted_at: datetime
    status: str = "admitted"
    retracted_at: datetime | None = None
    retraction_reason: str | None = None


@dataclass(frozen=True)
class ErasedItem:
    media_id: UUID
    reason: str
    erased_at: datetime


@dataclass(frozen=True)
class TrainingReport:
    items: list[ReportItem]
    erased: list[ErasedItem]


def _admitted(record: AuditRecord, body: dict) -> ReportItem:
    derived = body.get("derived_media_id")
    return ReportItem(
        candidate_id=UUID(body["candidate_id"]), media_id=UUID(body["media_id"]),
        derived_media_id=UUID(derived) if derived else None, source=body["source"],
        basis=body["basis"], evidence=[UUID(x) for x in body["evidence"]],
        policy_version=body["policy_version"], admitted_at=record.recorded_at)


class ReportHandler:
    def __init__(self, audit: AuditReader, pseudonyms: Pseudonymizer) -> None:
        self.audit = audit
        self.pseudonyms = pseudonyms

    async def report(self, user_key: str) -> TrainingReport:
        records = await self.audit.records(self.pseudonyms.subject(user_key))
        items: dict[str, ReportItem] = {}
        erased: list[ErasedItem] = []
        for record, body in ((r, body) for r in records for body in r.entries):
            kind = body["kind"]
            if kind == "admitted":
                items[body["candidate_id"]] = _admitted(record, body)
            elif kind == "retracted" and body["candidate_id"] in items:
                item = items[body["candidate_id"]]
                item.status, item.retracted_at = "retracted", record.recorded_at
                item.retraction_reason = body["reason"]
            elif kind == "erased":
                erased.append(ErasedItem(UUID(body["media_id"]), body["reason"],
                                         record.recorded_at))
        return TrainingReport(list(items.values()), erased)


__all__ = ["ErasedItem", "ReportHandler", "ReportItem", "TrainingReport"]
