"""The local development stack: Kafka (KRaft), PostgreSQL and S3 (SeaweedFS) on 127.0.0.1.

    python -m gemroll_dev.stack up|down|status|env

From Python: `up()`, `down()`, `status()`; `StackConfig.load(run_dir=..., kafka_port=...)`
for an isolated second stack. Services hook in through `gemroll_dev.stack.services.SERVICES`.
"""

from .config import Ports, StackConfig, StackEndpoints, StackError
from .control import ComponentStatus, UpResult, down, provision, status, up
from .process import ManagedProcess, ProcessSpec

__all__ = [
    "ComponentStatus",
    "ManagedProcess",
    "Ports",
    "ProcessSpec",
    "StackConfig",
    "StackEndpoints",
    "StackError",
    "UpResult",
    "down",
    "provision",
    "status",
    "up",
]
