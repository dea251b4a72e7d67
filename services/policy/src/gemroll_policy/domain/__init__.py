"""Pure policy rules and gate logic: no I/O, no frameworks (tested in tests/unit/policy)."""

from .admissions import CopyResult, hold_unbacked, instead_of_admissions, without_admissions
from .audit import AuditEntry, AuditRecord, ChainCheck, chain, verify
from .batches import AfterFailure, after_failure
from .gate import Gate
from .keys import erasure_prefixes, training_key, training_prefix, user_prefix
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
from .outcomes import Decided, Erased, Outcome, Retracted
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
    "POLICY_VERSION", "Action", "Admit", "AfterFailure", "AuditEntry", "AuditRecord",
    "Candidate", "CandidateStatus", "ChainCheck", "Consent", "CopyResult", "Decided", "Erased",
    "ErasureScope", "Gate", "Hold", "Media", "MediaKey", "Outcome", "Pseudonymizer", "Reject",
    "Retracted", "Tombstone", "Verdict", "Withdrawn", "Workspace", "after_failure", "chain",
    "decide", "erasure_prefixes", "first_consent", "hold_unbacked", "instead_of_admissions",
    "retraction_for", "training_key", "training_prefix", "user_prefix", "verify",
    "without_admissions",
]
