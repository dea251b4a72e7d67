"""Offline tools for the operations checks, installed on demand into `.cache/`.

* promtool and prometheus from Debian's `prometheus` package (`apt-get download`, unpacked
  into `.cache/prometheus/`: nothing is installed system-wide and no service is started);
* kustomize and kubeconform built from the Go module proxy into `.cache/bin/`;
* JSON schemas for kubeconform in `.cache/k8s-schemas/`: Kubernetes from the
  `kubernetes-validate` wheel, CRDs (Strimzi, KEDA, prometheus-operator) from their own
  published artifacts (see `schemas.py`).

`python -m gemroll_dev.ops_tools ensure` installs everything; tests call the same functions.
"""

from .binaries import ToolError, kubeconform, kustomize, prometheus, promtool
from .schemas import KUBERNETES_VERSIONS, SchemaSet, ensure_schemas

__all__ = [
    "KUBERNETES_VERSIONS",
    "SchemaSet",
    "ToolError",
    "ensure_schemas",
    "kubeconform",
    "kustomize",
    "prometheus",
    "promtool",
]
