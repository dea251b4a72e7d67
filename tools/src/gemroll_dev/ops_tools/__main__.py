"""python -m gemroll_dev.ops_tools ensure | validate

ensure    install promtool, prometheus, kustomize, kubeconform and the schemas into .cache/
validate  render each overlay and validate every object offline (exit 1 on any failure)
"""

from __future__ import annotations

import sys

from . import kube
from .binaries import ToolError, kubeconform, kustomize, prometheus, promtool


def ensure() -> None:
    for tool in (promtool, prometheus, kustomize, kubeconform):
        print(f"{tool.__name__}: {tool()}")
    for overlay in kube.OVERLAYS:
        kube.validate(kube.render(kube.overlay_dir(overlay)))  # builds the schemas it needs
    print("schemas: .cache/k8s-schemas")


def validate() -> int:
    failed = 0
    for overlay in kube.OVERLAYS:
        for result in kube.validate(kube.render(kube.overlay_dir(overlay))):
            print(f"{overlay} @ Kubernetes {result.version}: {result.summary}")
            for bad in result.failures:
                failed += 1
                print(f"  {bad.get('kind')} {bad.get('name')}: {bad.get('status')} "
                      f"{bad.get('msg')}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "ensure"
    try:
        if command == "ensure":
            ensure()
            return 0
        if command == "validate":
            return validate()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


raise SystemExit(main(sys.argv[1:]))
