"""Render a DemoReport into `<out>/index.html` (images are already next to it)."""

from __future__ import annotations

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


def _reason(code: str) -> str:
    """`blurry:low_laplacian_variance` -> `blurry · low laplacian variance`."""
    signal, _, detail = code.partition(":")
    return f"{signal} · {detail.replace('_', ' ')}" if detail else signal


_env.filters["pct"] = _pct
_env.filters["reason"] = _reason


def render(report: DemoReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    html = _env.get_template("index.html.j2").render(report=report)
    path = out_dir / "index.html"
    path.write_text(html)
    return path
