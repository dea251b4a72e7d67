"""`make soak`: the pipeline under sustained load, then under faults, with an HTML report.

    python -m gemroll_dev.soak --minutes 5 --rate 4 --fault-photos 2000 --fault-rounds 3

On a private stack (free ports, its own run folder; the shared stack is never touched), with
the four services as real processes:

1. Load: users upload at `--rate` photos/s for `--minutes` and act on their suggestions.
   Measured: latency upload -> MediaClassified and upload -> first suggestion containing
   the photo (p50, p99, and over time), consumer lag of every group over time, RSS of every
   service over time (and its slope). The suggester's quiet period is the pipeline's
   (`PipelineConfig.quiet_seconds`), printed with the figures.
2. Faults (unless `--fault-photos 0`): `--fault-photos` uploads while each service is
   SIGKILLed and restarted in turn, the broker restarts, PostgreSQL and S3 stop for 10 s
   (the plan repeats until the uploads end); then the full audit (see
   gemroll_testkit.reliability.audit) and the per-upload accounting (every upload's end
   state; any upload lost, duplicated or unexplained is listed with its timeline). Repeated
   `--fault-rounds` times on the same pipeline, each round with its own users.

Writes `reports/soak/index.html` (charts as PNG beside it), `summary.json` and the services'
logs (`logs/`); exits 1 when an audit check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from gemroll_testkit.reliability.private_stack import private_stack  # noqa: E402
from gemroll_testkit.reliability.scenario import (  # noqa: E402
    ALL_FAULTS,
    ScenarioConfig,
    ScenarioResult,
    run_scenario,
)
from gemroll_testkit.reliability.services import PipelineConfig, running_pipeline  # noqa: E402

from .stack.config import find_project_root  # noqa: E402

MIB = 1024 * 1024


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope (units per minute) of (seconds, value) points."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else None


def rss_series(result: ScenarioResult) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for s in result.samples:
        for service, rss in s.rss.items():
            if rss:
                out.setdefault(service, []).append((s.t, rss / MIB))
    return out


def lag_series(result: ScenarioResult) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for s in result.samples:
        for group, lag in s.lag.items():
            if lag is not None:
                out.setdefault(group, []).append((s.t, lag))
    return out


def rss_figures(result: ScenarioResult, warmup: float = 0.2) -> dict[str, dict[str, float]]:
    """Per service: first/last/peak MiB and the slope after the warm-up share of the run."""
    figures = {}
    for service, points in rss_series(result).items():
        steady = points[int(len(points) * warmup):]
        figures[service] = {"start_mib": round(points[0][1], 1), "end_mib": round(points[-1][1], 1),
                            "peak_mib": round(max(v for _, v in points), 1),
                            "slope_mib_per_min": round(slope_per_minute(steady) or 0.0, 2)}
    return figures


def _plot(path: Path, title: str, ylabel: str, series: dict[str, list[tuple[float, float]]],
          faults: list[Any] | None = None) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    for name, points in sorted(series.items()):
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=1.4)
    for f in faults or []:
        ax.axvspan(f.at_s, f.at_s + max(f.took_s, 0.5), color="tab:red", alpha=0.12)
        ax.text(f.at_s, ax.get_ylim()[1], f.kind.split(":")[-1], fontsize=7, rotation=90,
                va="top", color="tab:red")
    ax.set_title(title)
    ax.set_xlabel("seconds since the uploads began")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=7, loc="upper left", ncols=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _latency_plot(path: Path, latencies: dict[str, list[tuple[float, float]]]) -> None:
    """Each photo's latency to each stage, by when it was uploaded."""
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    for stage, points in latencies.items():
        if points:
            p99 = percentile([s for _, s in points], 99)
            ax.scatter([t for t, _ in points], [s for _, s in points], s=4, alpha=0.5,
                       label=f"upload → {stage} (p99 {p99:.1f} s)")
    ax.set_title("Latency over time, per photo")
    ax.set_xlabel("seconds since the first upload")
    ax.set_ylabel("seconds")
    ax.grid(alpha=0.3)
    if any(latencies.values()):
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def stage_figures(latencies: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    """p50 and p99 per stage; the p99 also per tenth of the run (is it flat?)."""
    out: dict[str, Any] = {}
    for stage, points in latencies.items():
        seconds = [s for _, s in points]
        tenths = [seconds[k * len(seconds) // 10:(k + 1) * len(seconds) // 10]
                  for k in range(10)] if len(seconds) >= 10 else []
        out[stage] = {"p50_s": round(percentile(seconds, 50) or 0, 2) if seconds else None,
                      "p99_s": round(percentile(seconds, 99) or 0, 2) if seconds else None,
                      "samples": len(seconds),
                      "p99_by_tenth_s": [round(percentile(t, 99) or 0, 1) for t in tenths]}
    return out


def phase_summary(name: str, result: ScenarioResult) -> dict[str, Any]:
    stages = stage_figures(result.latencies)
    accepted = result.audit.figures.get("accepted_uploads", 0)
    return {
        "phase": name,
        "accepted_uploads": accepted,
        "upload_seconds": round(result.upload_seconds, 1),
        "drain_seconds": round(result.drain_seconds, 1),
        "achieved_upload_rate": round(accepted / result.upload_seconds, 2)
        if result.upload_seconds else None,
        "latency": stages,
        "max_lag": {g: max((v for _, v in pts), default=0)
                    for g, pts in lag_series(result).items()},
        "rss": rss_figures(result),
        "faults": [vars(f) for f in result.faults],
        "crashes": result.crashes,
        "audit": [vars(f) for f in result.audit.findings],
        "figures": result.audit.figures,
        "accounting": result.ledger.figures(),
        "upload_ends": result.ledger.states(),
        "problem_uploads": [vars(e) for e in result.ledger.problems],
    }


def write_report(out: Path, phases: list[tuple[str, ScenarioResult]], args: Any) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    summary = {"args": vars(args), "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "phases": [phase_summary(n, r) for n, r in phases]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    parts = [f"<h1>gemroll soak report</h1><p>{html.escape(summary['when'])} · "
             f"<code>{html.escape(' '.join(sys.argv))}</code></p>"]
    for (name, result), figures in zip(phases, summary["phases"], strict=True):
        faults = result.faults
        _latency_plot(out / f"{name}_latency.png", result.latencies)
        _plot(out / f"{name}_lag.png", "Consumer lag (records not yet committed)", "records",
              lag_series(result), faults)
        _plot(out / f"{name}_rss.png", "RSS per service", "MiB", rss_series(result), faults)
        accepted = [(s.t, s.accepted) for s in result.samples]
        _plot(out / f"{name}_uploads.png", "Accepted uploads", "photos", {"accepted": accepted},
              faults)
        rows = "".join(
            f"<tr><td>{html.escape(s)}</td><td>{v['start_mib']}</td><td>{v['end_mib']}</td>"
            f"<td>{v['peak_mib']}</td><td>{v['slope_mib_per_min']}</td></tr>"
            for s, v in figures["rss"].items())
        checks = "".join(
            f"<tr class={'ok' if f.ok else 'fail'}><td>{'ok' if f.ok else 'FAIL'}</td>"
            f"<td>{html.escape(f.check)}</td><td>{html.escape(f.detail[:300])}</td></tr>"
            for f in result.audit.findings)
        fault_rows = "".join(
            f"<tr><td>{html.escape(f.kind)}</td><td>{f.at_s:.1f}</td><td>{f.took_s:.1f}</td>"
            f"<td>{html.escape(f.error or '')}</td></tr>" for f in faults)
        ends = "".join(f"<tr><td>{html.escape(state)}</td><td>{n}</td></tr>"
                       for state, n in sorted(figures["upload_ends"].items()))
        problems = "".join(
            f"<h4>{html.escape(p['upload'])} · {html.escape(p['photo'])}: "
            f"{html.escape(p['problem'] or '')}</h4><pre>"
            f"{html.escape(chr(10).join(p['timeline']))}</pre>"
            for p in figures["problem_uploads"][:50])
        latency_lines = "".join(
            f"Latency upload → {stage}: p50 <b>{f['p50_s']} s</b>, p99 <b>{f['p99_s']} s</b> "
            f"({f['samples']} photos; p99 per tenth of the run: {f['p99_by_tenth_s']}).<br>"
            for stage, f in figures["latency"].items())
        parts.append(f"""
<h2>{html.escape(name)}</h2>
<p>{figures['accepted_uploads']} uploads accepted in {figures['upload_seconds']} s
({figures['achieved_upload_rate']} /s), drained in {figures['drain_seconds']} s.
{latency_lines}Restarts after crashes: {html.escape(str(result.crashes))}.</p>
<img src="{name}_latency.png"><img src="{name}_lag.png"><img src="{name}_rss.png">
<img src="{name}_uploads.png">
<h3>RSS (MiB; slope after the first 20 % of the run)</h3>
<table><tr><th>service</th><th>start</th><th>end</th><th>peak</th><th>MiB/min</th></tr>{rows}
</table>
{"<h3>Faults</h3><table><tr><th>fault</th><th>at s</th><th>took s</th><th>error</th></tr>"
 + fault_rows + "</table>" if faults else ""}
<h3>Every upload's end state</h3>
<p>{html.escape(json.dumps(figures["accounting"]))}</p>
<table><tr><th>end state</th><th>uploads</th></tr>{ends}</table>{problems}
<h3>Audit</h3><table>{checks}</table>
<pre>{html.escape(json.dumps(result.audit.figures, indent=1, default=str))}</pre>""")
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto}img{max-width:100%}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:2px 8px;font-size:90%}.fail{background:#fdd}.ok{background:#efe}")
    (out / "index.html").write_text(f"<!doctype html><meta charset=utf-8><title>gemroll soak"
                                    f"</title><style>{style}</style>{''.join(parts)}")
    return summary


async def run(args: argparse.Namespace) -> int:
    phases: list[tuple[str, ScenarioResult]] = []
    out = Path(args.out)
    logs = out / "logs"  # kept: a timeline to read when something went wrong
    shutil.rmtree(logs, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="gemroll-soak-") as tmp:
        async with private_stack(Path(tmp) / "stack") as stack:
            cfg = PipelineConfig(endpoints=stack.endpoints, logs=logs)
            async with running_pipeline(cfg) as pipeline:
                print(f"pipeline ready; load: {args.minutes} min at {args.rate}/s; the "
                      f"suggester's quiet period {cfg.quiet_seconds} s", flush=True)
                if args.minutes > 0:
                    load = ScenarioConfig(photos=int(args.minutes * 60 * args.rate),
                                          users=args.users, rate=args.rate, concurrency=8,
                                          faults=(), opt_out_users=1, seed=1)
                    phases.append(("load", await run_scenario(pipeline, None, load)))
                    print(phases[-1][1].audit.summary(), flush=True)
                for n in range(args.fault_rounds if args.fault_photos > 0 else 0):
                    span = args.fault_photos / args.fault_rate
                    rounds = max(1, int(span // 90))
                    faults = ScenarioConfig(photos=args.fault_photos, users=args.users,
                                            rate=args.fault_rate, concurrency=8,
                                            faults=ALL_FAULTS * rounds, seed=2 + n)
                    print(f"faults #{n + 1}: {args.fault_photos} photos, plan x{rounds}",
                          flush=True)
                    result = await run_scenario(pipeline, stack, faults)
                    phases.append((f"faults{n + 1}", result))
                    print(result.audit.summary(), flush=True)
                    print(result.ledger.report(), flush=True)
    summary = write_report(out, phases, args)
    for phase in summary["phases"]:
        print(json.dumps({k: phase[k] for k in ("phase", "accepted_uploads", "accounting",
                                                 "achieved_upload_rate", "latency", "rss",
                                                 "max_lag")},
                         default=str))
    print(f"report: {out / 'index.html'}")
    failed = [f for _, r in phases for f in r.audit.failures()]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="load phase length")
    parser.add_argument("--rate", type=float, default=4.0, help="uploads per second (load)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--fault-photos", type=int, default=2000,
                        help="uploads during the fault phase (0: skip it)")
    parser.add_argument("--fault-rate", type=float, default=8.0)
    parser.add_argument("--fault-rounds", type=int, default=3,
                        help="fault phases in a row, each with its own users")
    parser.add_argument("--out", default=str(find_project_root() / "reports" / "soak"))
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
