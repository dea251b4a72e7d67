"""Render a DemoReport into `<out>/index.html` (images are already next to it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .model import DemoReport

_env = Environment(
    loader=PackageLoader("gemroll_dev.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def reason_label(code: str, names: Mapping[str, str] | None = None) -> str:
    """`blurry:low_laplacian_variance` -> `blurry · low laplacian variance`; media ids in
    the detail (`duplicate:burst_of:<id>`) become their file names when `names` has them."""
    signal, _, detail = code.partition(":")
    if not detail:
        return signal
    shown = [names[p] if names and p in names else p.replace("_", " ")
             for p in detail.split(":")]
    return f"{signal} · {' '.join(shown)}"


_env.filters["pct"] = _pct
_env.filters["reason"] = reason_label


def render(report: DemoReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    html = _env.get_template("index.html.j2").render(report=report)
    path = out_dir / "index.html"
    path.write_text(html)
    return path
