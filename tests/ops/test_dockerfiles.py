"""Static checks of the service images (no Docker engine runs here): one Dockerfile for the CPU
services (`--build-arg SERVICE=...`) and one CUDA Dockerfile for the classifier; multi-stage,
pinned bases, non-root, installed from uv.lock, no test code and nothing secret or local in
the build context."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from gemroll_contracts import Service

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "deploy" / "docker" / "Dockerfile"
CUDA = ROOT / "deploy" / "docker" / "classifier-cuda.Dockerfile"
# How each service's image is built: the Dockerfile and its build args.
IMAGES: dict[str, tuple[Path, dict[str, str]]] = {
    "ingest": (SHARED, {"SERVICE": "ingest"}),
    "policy": (SHARED, {"SERVICE": "policy"}),
    "suggester": (SHARED, {"SERVICE": "suggester"}),
    "classifier": (CUDA, {}),
}
SERVICES = [s.value for s in Service]
Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def split_stages(items: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in items:
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def expand(text: str, scope: dict[str, str]) -> str:
    """`${NAME}` and `$NAME` replaced where NAME is in scope; anything else left as written."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)",
                  lambda m: scope.get(m.group(1) or m.group(2), m.group(0)), text)


def resolve(path: Path, build_args: dict[str, str]) -> list[list[Instruction]]:
    """The stages as `docker build --build-arg ...` reads them: variables expanded from the
    build args, ARG defaults and ENV values in scope (global ARGs in FROM; in a stage once it
    declares them; RUN as its shell would expand them). ENTRYPOINT and CMD are kept as written:
    Docker does not expand their exec form."""
    items = instructions(path.read_text())
    first_from = next(i for i, (word, _) in enumerate(items) if word == "FROM")
    defaults: dict[str, str] = {}
    for _, rest in items[:first_from]:
        name, _, value = rest.partition("=")
        defaults[name] = build_args.get(name, value)
    stages = []
    for stage in split_stages(items[first_from:]):
        scope: dict[str, str] = {}
        resolved = [("FROM", expand(stage[0][1], defaults))]
        for word, rest in stage[1:]:
            if word in ("ENTRYPOINT", "CMD"):
                resolved.append((word, rest))
                continue
            rest = expand(rest, scope)
            if word == "ARG":
                name, eq, value = rest.partition("=")
                scope[name] = build_args.get(name, value if eq else defaults.get(name, ""))
            elif word == "ENV":
                scope.update(pair.split("=", 1) for pair in shlex.split(rest))
            resolved.append((word, rest))
        stages.append(resolved)
    return stages


def image(svc: str) -> list[list[Instruction]]:
    path, build_args = IMAGES[svc]
    return resolve(path, build_args)


def of(stage: list[Instruction], word: str) -> list[str]:
    return [rest for w, rest in stage if w == word]


def env(stage: list[Instruction]) -> dict[str, str]:
    return dict(pair.split("=", 1) for rest in of(stage, "ENV") for pair in shlex.split(rest))


def context_copies(stage: list[Instruction]) -> list[str]:
    """The build-context paths a stage copies (not what it copies from other stages)."""
    sources = []
    for rest in of(stage, "COPY"):
        if "--from=" not in rest:
            sources += [a for a in rest.split() if not a.startswith("--")][:-1]
    return sources


def workspace_members() -> dict[str, Path]:
    """Package name -> folder, for every member of the uv workspace."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for folder in ROOT.glob(pattern):
            if (folder / "pyproject.toml").is_file():
                project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
                members[project["name"]] = folder
    return members


def workspace_closure(package: str, members: dict[str, Path]) -> set[str]:
    """`package` and the workspace members it depends on, directly or not."""
    found, todo = set(), [package]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        project = tomllib.loads((members[name] / "pyproject.toml").read_text())["project"]
        for requirement in project.get("dependencies", []):
            dependency = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if dependency in members:
                todo.append(dependency)
    return found


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


def test_every_service_has_an_image_and_there_are_two_dockerfiles():
    assert sorted(IMAGES) == sorted(SERVICES)
    found = {p for top in ("services", "deploy", "tools", "clients", "contracts")
             for p in (ROOT / top).rglob("*Dockerfile*")} | set(ROOT.glob("*Dockerfile*"))
    assert found == {SHARED, CUDA}, "one Dockerfile for the CPU services, one for CUDA"


def test_the_shared_dockerfile_builds_each_cpu_service_from_its_build_arg():
    text = SHARED.read_text()
    (guard,) = re.findall(r'case "\$\{SERVICE\}" in ([\w|]+)\)', text)
    cpu = {svc for svc, (path, _) in IMAGES.items() if path == SHARED}
    assert set(guard.split("|")) == cpu, "any other SERVICE fails the build, saying why"
    for stage in split_stages(instructions(text)):
        if any("SERVICE" in rest for _, rest in stage):
            assert "SERVICE" in of(stage, "ARG"), "declared without a default in each stage"
    code = " ".join(rest for _, rest in instructions(text))
    for svc in cpu:
        assert f"gemroll-{svc}" not in code and f"gemroll_{svc}" not in code, \
            f"{svc} is named only by SERVICE"


@pytest.mark.parametrize("svc", SERVICES)
def test_multi_stage_pinned_non_root(svc):
    stages = image(svc)
    assert len(stages) >= 3, "uv, build and runtime stages"
    for stage in stages:
        base = stage[0][1].split()[0]
        assert ":" in base and not base.endswith(":latest"), base
        assert re.search(r":[^:]*\d", base), f"{base} is not pinned to a version"
    runtime = stages[-1]
    assert of(runtime, "USER") == ["10001:10001"], "the runtime runs as a numeric non-root user"
    assert not any("uv " in rest for rest in of(runtime, "RUN")), \
        "the runtime stage installs nothing: it copies the built environment"


@pytest.mark.parametrize("svc", SERVICES)
def test_installs_the_service_from_the_lockfile_and_runs_it(svc):
    stages = image(svc)
    syncs = [rest for stage in stages for rest in of(stage, "RUN") if "uv sync" in rest]
    assert len(syncs) == 2, "dependencies first (cached), then the service"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync
        assert re.search(rf"--package gemroll-{svc}(\s|$)", sync), sync
    assert "--no-install-workspace" in syncs[0] and "--no-editable" in syncs[1]
    runtime = stages[-1]
    (entrypoint,), (cmd,) = of(runtime, "ENTRYPOINT"), of(runtime, "CMD")
    assert json.loads(entrypoint) == ["uvicorn", "--factory", "--host", "0.0.0.0",
                                      "--no-access-log"]
    assert json.loads(cmd) == ["--port", "8080"], "the manifests' args replace only this"
    assert env(runtime)["UVICORN_APP"] == f"gemroll_{svc}.app:create_app"
    app = ROOT / "services" / svc / "src" / f"gemroll_{svc}" / "app.py"
    assert "\ndef create_app(" in app.read_text()
    assert of(runtime, "EXPOSE") == ["8080"]
    (health,) = of(runtime, "HEALTHCHECK")
    assert "http://127.0.0.1:8080/healthz" in health


@pytest.mark.parametrize("svc", SERVICES)
def test_no_secrets_in_the_image(svc):
    for stage in image(svc):
        for rest in of(stage, "ENV") + of(stage, "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY)\w*=", rest), rest


@pytest.mark.parametrize("svc", SERVICES)
def test_copied_paths_exist_and_pass_the_dockerignore(svc):
    patterns = dockerignore()
    for stage in image(svc):
        for source in context_copies(stage):
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert not ignored(source, patterns), f"COPY {source} is excluded by .dockerignore"


@pytest.mark.parametrize("svc", SERVICES)
def test_the_image_holds_the_service_and_its_dependencies_only(svc):
    members = workspace_members()
    needed = workspace_closure(f"gemroll-{svc}", members)
    assert not needed & {"gemroll-dev", "gemroll-testkit", "gemroll-cli"}, needed
    folders = [members[name].relative_to(ROOT).as_posix() for name in needed]
    expected = {"pyproject.toml", "uv.lock"} | {f"{f}/{part}" for f in folders
                                                for part in ("pyproject.toml", "src")}
    *build_stages, runtime = image(svc)
    copied = [source.rstrip("/") for stage in build_stages for source in context_copies(stage)]
    assert set(copied) == expected, "no tests, tools or other members, not even their manifests"
    assert not context_copies(runtime), "the runtime stage takes nothing from the context"
    for rest in of(runtime, "COPY"):
        *sources, _ = [a for a in rest.split() if not a.startswith("--")]
        assert "--from=build" in rest
        assert set(sources) <= {"/app/.venv", "/opt/python", "/opt/gemroll/torch"}, sources


def test_both_dockerfiles_install_and_run_the_same_way():
    """Docker has no include: what the two files share must stay the same lines."""
    shared = resolve(SHARED, {"SERVICE": "classifier"})
    cuda = image("classifier")

    def install(stages):
        build = next(s for s in stages if any("uv sync" in rest for rest in of(s, "RUN")))
        start = build.index(("WORKDIR", "/src"))
        last_sync = max(i for i, (w, rest) in enumerate(build) if "uv sync" in rest)
        return build[start:last_sync + 1]

    def run(stages):
        kept = ("USER", "WORKDIR", "EXPOSE", "ENTRYPOINT", "CMD")
        return [ins for ins in stages[-1] if ins[0] in kept or "useradd" in ins[1]]

    assert install(shared) == install(cuda)
    assert run(shared) == run(cuda)


def test_dockerignore_keeps_local_state_and_test_code_out():
    patterns = dockerignore()
    for path in (".venv/bin/python", ".cache/bin/kustomize", ".run/stack.env", ".git/config",
                 "tests/conftest.py", "tests/kit/pyproject.toml",
                 "tests/kit/src/gemroll_testkit/__init__.py", "tools/pyproject.toml",
                 "tools/src/gemroll_dev/cli.py", "clients/cli/pyproject.toml",
                 "services/ingest/src/gemroll_ingest/__pycache__/x.pyc",
                 "deploy/k8s/base/kustomization.yaml"):
        assert ignored(path, patterns), path
    for path in ("uv.lock", "pyproject.toml", "services/policy/src/gemroll_policy/app.py",
                 "contracts/src/gemroll_contracts/topics.py"):
        assert not ignored(path, patterns), path


def test_classifier_runs_on_a_cuda_runtime_base_with_its_weights():
    text = CUDA.read_text()
    (cuda_image,) = [rest.partition("=")[2] for word, rest in instructions(text)
                     if word == "ARG" and rest.startswith("CUDA_IMAGE=")]
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-runtime-ubuntu\d+\.\d+", cuda_image)
    runtime = image("classifier")[-1]
    assert runtime[0][1].startswith(cuda_image)
    assert "weights seed" in text and "weights check" in text, "the model weights are baked in"
    assert env(runtime)["GEMROLL_CLASSIFIER_TORCH_HOME"] == "/opt/gemroll/torch"
