"""What the gate's events lead to: a decision, a retraction or an erasure (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from gemroll_contracts import ErasureReason, RetractionReason

from .model import Candidate, ErasureScope
from .rules import Admit, Reject


@dataclass(frozen=True)
class Decided:
    candidate: Candidate
    verdict: Admit | Reject
    trace_id: str | None


@dataclass(frozen=True)
class Retracted:
    candidate: Candidate
    reason: RetractionReason
    trace_id: str | None


@dataclass(frozen=True)
class Erased:
    user_key: str
    media_ids: tuple[UUID, ...]
    reason: ErasureReason
    scope: ErasureScope
    trace_id: str | None = field(default=None)
    candidate_ids: tuple[UUID, ...] = ()
    """Every candidate the erased media had: their training copies go too."""


Outcome = Decided | Retracted | Erased


__all__ = ["Decided", "Erased", "Outcome", "Retracted"]
