"""Fixtures of the operations checks: the offline tools (installed into .cache/ on first use)
and the rendered kustomize overlays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def promtool() -> Path:
    from gemroll_dev.ops_tools import promtool

    return promtool()


@pytest.fixture(scope="session")
def rendered() -> dict[str, str]:
    """`kustomize build` of every overlay (what `kubectl apply -k` would apply)."""
    from gemroll_dev.ops_tools import kube

    return {name: kube.render(kube.overlay_dir(name)) for name in kube.OVERLAYS}


@pytest.fixture(scope="session")
def objects(rendered: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    from gemroll_dev.ops_tools import kube

    return {name: kube.documents(text) for name, text in rendered.items()}


@pytest.fixture(scope="session")
def mtls_objects(tmp_path_factory) -> list[dict[str, Any]]:
    """The prod overlay with the kafka-mtls component added (as an operator would)."""
    import os

    from gemroll_dev.ops_tools import kube

    folder = tmp_path_factory.mktemp("prod-mtls")
    k8s_dir = os.path.relpath(ROOT / "deploy" / "k8s", folder)
    (folder / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{k8s_dir}/overlays/prod]\n"
        f"components: [{k8s_dir}/components/kafka-mtls]\n")
    return kube.documents(kube.render(folder))
