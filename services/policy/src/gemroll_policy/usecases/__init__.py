"""The policy service's use cases: the gate (with its training copies), the consent ledger
and the training report. Each takes its ports; `app.py` wires the adapters in."""

from .consent import ConsentError, ConsentHandler
from .copies import TrainingCopies, refuse_unbacked
from .gate import GateHandler, GateInput
from .report import ReportHandler, TrainingReport

__all__ = ["ConsentError", "ConsentHandler", "GateHandler", "GateInput", "ReportHandler",
           "TrainingCopies", "TrainingReport", "refuse_unbacked"]
