"""Pure policy rules and gate logic: no I/O, no frameworks (tested in tests/unit/policy)."""

from .audit import AuditEntry, AuditRecord, ChainCheck, chain, verify
from .gate import Decided, Erased, Gate, Outcome, Retracted, training_key, training_prefix
from .model import (
    Action,
    Candidate,
    CandidateStatus,
    Consent,
    ErasureScope,
    Media,
    MediaKey,
    Tombstone,
    first_consent,
)
from .pseudonym import Pseudonymizer
from .rules import (
    POLICY_VERSION,
    Admit,
    Hold,
    Reject,
    Verdict,
    Withdrawn,
    decide,
    retraction_for,
)
from .workspace import Workspace

__all__ = [
    "POLICY_VERSION", "Action", "Admit", "AuditEntry", "Candidate", "CandidateStatus",
    "AuditRecord", "ChainCheck", "Consent", "Decided", "Erased", "ErasureScope", "Gate", "Hold",
    "Media", "MediaKey", "Outcome", "Pseudonymizer", "Reject", "Retracted", "Tombstone",
    "Verdict", "Workspace", "chain", "decide", "retraction_for", "training_key",
    "training_prefix", "verify", "Withdrawn", "first_consent",
]
