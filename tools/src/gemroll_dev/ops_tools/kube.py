"""Render the kustomize overlays and validate every object offline with kubeconform."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..stack.config import find_project_root
from .binaries import ToolError, kubeconform, kustomize
from .schemas import KUBERNETES_VERSIONS, ensure_schemas

OVERLAYS = ("dev", "prod")


def overlay_dir(name: str) -> Path:
    return find_project_root() / "deploy" / "k8s" / "overlays" / name


def render(path: Path) -> str:
    """`kustomize build` of a kustomization folder (what `kubectl apply -k` applies)."""
    result = subprocess.run([str(kustomize()), "build", str(path)], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise ToolError(f"kustomize build {path} failed:\n{result.stderr}")
    return result.stdout


def documents(rendered: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered) if d]


@dataclass(frozen=True)
class Validation:
    version: str
    resources: list[dict[str, Any]]
    """kubeconform's per-resource results (`-output json -verbose`)."""
    summary: dict[str, int]

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.resources if r.get("status") != "statusValid"]


def validate(rendered: str) -> list[Validation]:
    """kubeconform, strict, against every supported Kubernetes version and the CRD schemas.
    Every object must have a schema: a missing one is a failure, never skipped."""
    kinds = {(d["apiVersion"], d["kind"]) for d in documents(rendered)}
    schemas = ensure_schemas(kinds)
    results = []
    for version in KUBERNETES_VERSIONS:
        proc = subprocess.run(
            [str(kubeconform()), *schemas.kubeconform_args(version), "-summary",
             "-output", "json", "-verbose", "-"],
            input=rendered, capture_output=True, text=True, check=False,
        )
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise ToolError(f"kubeconform gave no JSON:\n{proc.stdout}\n{proc.stderr}") from exc
        results.append(Validation(version, report.get("resources", []), report.get("summary", {})))
    return results
