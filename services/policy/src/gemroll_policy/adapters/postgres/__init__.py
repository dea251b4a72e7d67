"""PostgreSQL adapters of the policy schema: gate state, consent ledger, audit log and the
erasure queue. The outbox is the kit's (`gemroll_common.outbox`); the gate relays it."""

from .audit_reader import PostgresAuditReader
from .consent_store import PostgresConsentStore
from .erasure_queue import PostgresErasureQueue
from .gate_store import GateUnitOfWork, PostgresGateStore, pending_candidates
from .writers import lock_writers

__all__ = ["GateUnitOfWork", "PostgresAuditReader", "PostgresConsentStore",
           "PostgresErasureQueue", "PostgresGateStore", "lock_writers", "pending_candidates"]
