"""Static checks of the service images (no Docker engine runs here): multi-stage, pinned
bases, non-root, installed from uv.lock, nothing secret or local in the build context."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from gemroll_contracts import Service

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [s.value for s in Service]


def dockerfile(svc: str) -> str:
    return (ROOT / "services" / svc / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def build_args(text: str) -> dict[str, str]:
    args = {}
    for word, rest in instructions(text):
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
    return args


def ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the patterns used here: the last matching pattern wins,
    `!` re-includes, and a pattern matching a parent folder covers what is inside."""
    result = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.rstrip("/")
        candidates = prefixes if not pattern.startswith("**/") else parts
        glob = pattern.removeprefix("**/")
        if any(fnmatch.fnmatchcase(c, glob) for c in candidates):
            result = not negate
    return result


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("svc", SERVICES)
def test_multi_stage_pinned_non_root(svc):
    text = dockerfile(svc)
    all_stages = stages(text)
    assert len(all_stages) >= 3, "uv, build and runtime stages"
    args = build_args(text)
    for stage in all_stages:
        image = stage[0][1].split()[0]
        match = re.fullmatch(r"\$\{(\w+)\}", image)
        resolved = args[match.group(1)] if match else image
        assert ":" in resolved and not resolved.endswith(":latest"), resolved
        assert re.search(r":[^:]*\d", resolved), f"{resolved} is not pinned to a version"
    runtime = all_stages[-1]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users == ["10001:10001"], "the runtime stage runs as a numeric non-root user"
    assert not any(word == "RUN" and "uv " in rest for word, rest in runtime), \
        "the runtime stage installs nothing: it copies the built environment"


@pytest.mark.parametrize("svc", SERVICES)
def test_installs_the_workspace_member_from_the_lockfile(svc):
    text = dockerfile(svc)
    syncs = [rest for word, rest in instructions(text) if word == "RUN" and "uv sync" in rest]
    assert len(syncs) == 2, "dependencies first (cached), then the service"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync
        assert f"--package gemroll-{svc}" in sync
    assert "--no-editable" in syncs[1]
    (entrypoint,) = [rest for word, rest in instructions(text) if word == "ENTRYPOINT"]
    assert f'"gemroll_{svc}.app:create_app"' in entrypoint and '"--factory"' in entrypoint


@pytest.mark.parametrize("svc", SERVICES)
def test_no_secrets_in_the_image(svc):
    for word, rest in instructions(dockerfile(svc)):
        if word in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY)\w*=", rest), rest


@pytest.mark.parametrize("svc", SERVICES)
def test_copied_paths_exist_and_pass_the_dockerignore(svc):
    patterns = dockerignore()
    for word, rest in instructions(dockerfile(svc)):
        if word != "COPY" or "--from=" in rest:
            continue
        sources = [a for a in rest.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert not ignored(source, patterns), f"COPY {source} is excluded by .dockerignore"


def test_dockerignore_keeps_local_state_out():
    patterns = dockerignore()
    for path in (".venv/bin/python", ".cache/bin/kustomize", ".run/stack.env", ".git/config",
                 "tests/conftest.py", "services/ingest/src/gemroll_ingest/__pycache__/x.pyc",
                 "deploy/k8s/base/kustomization.yaml"):
        assert ignored(path, patterns), path
    for path in ("uv.lock", "pyproject.toml", "services/policy/src/gemroll_policy/app.py",
                 "contracts/src/gemroll_contracts/topics.py"):
        assert not ignored(path, patterns), path


def test_classifier_runs_on_a_cuda_runtime_base():
    args = build_args(dockerfile("classifier"))
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+", args["CUDA_IMAGE"])
    runtime = stages(dockerfile("classifier"))[-1]
    assert runtime[0][1].startswith("${CUDA_IMAGE}")
    assert "weights seed" in dockerfile("classifier"), "the model weights are baked in"
