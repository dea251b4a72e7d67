"""Fuzz a running service from its OpenAPI document with schemathesis: every operation, valid
and invalid inputs, with a valid token, until at least `min_requests` requests were sent.

Blocking (schemathesis sends with `requests`): run it in a thread from async code.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode


@dataclass
class FuzzReport:
    service: str
    operations: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    """`METHOD path -> status` and a curl line to reproduce, for every 5xx."""
    not_generated: list[str] = field(default_factory=list)

    def record(self, label: str, status: int, case: Any) -> None:
        self.requests += 1
        self.statuses[status] += 1
        self.per_operation[label] += 1
        if status >= 500 and len(self.server_errors) < 50:
            with contextlib.suppress(Exception):
                label = f"{label} -> {status}: {case.as_curl_command()}"
            self.server_errors.append(label)


def fuzz_service(service: str, base_url: str, token: str, *, min_requests: int = 1000,
                 known_path_parameters: dict[str, str] | None = None,
                 max_rounds: int = 12) -> FuzzReport:
    """Rounds over every operation and both generation modes; odd rounds fill path parameters
    from `known_path_parameters` (the caller's real ids) so handlers go past the lookup."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    report = FuzzReport(service, [op.label for op in operations])
    if not operations:
        return report
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    per_op = max(10, min_requests // (2 * len(operations)) + 1)
    for round_no in range(max_rounds):
        for op in operations:
            names = {p.name for p in op.path_parameters}
            fixed = {k: v for k, v in (known_path_parameters or {}).items() if k in names}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = op.as_strategy(
                    generation_mode=mode,
                    path_parameters=fixed if fixed and round_no % 2 and
                    mode is GenerationMode.POSITIVE else None)

                send = _sender(report, op.label, strategy, base_url, session, headers,
                               per_op, round_no * 7919 + len(report.per_operation))
                try:
                    send()
                except Exception as exc:  # noqa: BLE001 - e.g. nothing to negate: noted
                    report.not_generated.append(f"{op.label} {mode.value}: "
                                                f"{type(exc).__name__}: {str(exc)[:200]}")
        if report.requests >= min_requests:
            break
    return report


def _sender(report: FuzzReport, label: str, strategy: Any, base_url: str,
            session: requests.Session, headers: dict[str, str], examples: int,
            seed_value: int) -> Any:
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(seed_value)
    @given(case=strategy)
    def send(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        report.record(label, response.status_code, case)

    return send
