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
