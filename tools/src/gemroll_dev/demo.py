"""`make demo`: the product's main job, end to end, on a sample camera roll.

Starts (or reuses) the stack and the four services, creates a demo user and opts them in,
builds the labeled sample roll, uploads it through the ingest API, waits with progress bars
until every item is classified and the suggestions exist, shares one suggestion and applies
one AI edit, waits for the training report to show them, then writes an HTML report
(`reports/demo/index.html`) and stops what it started (`--keep-running` keeps it).

    python -m gemroll_dev.demo [--keep-running] [--out DIR] [--user NAME] [--roll DIR]

The stack is the one `StackConfig.load()` describes (GEMROLL_STACK_RUN_DIR, _KAFKA_PORT, ...
for an isolated one); components that were already running are used and left running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gemroll_cli.client import ApiError, GemrollClient, ServiceUrls
from gemroll_cli.tokens import dev_token, user_key_of
from gemroll_cli.upload import (
    VIDEO_SUFFIXES,
    UploadAborted,
    UploadState,
    camera_roll_files,
    manifest_metadata,
    upload_files,
)
from gemroll_contracts import MEDIA_CLASSIFIED, MediaClassified
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .demo_videos import clip_ids, fetch_posters, fetch_recaps, video_view
from .report import (
    DemoReport,
    Item,
    Suggestion,
    Training,
    reason_label,
    render,
    write_jpeg,
    write_placeholder,
)
from .samples import MANIFEST_NAME, Manifest, SampleItem, SamplesError, build_camera_roll
from .samples.reuse import current_roll
from .stack import StackConfig, StackError, down, up
from .tail import follow

log = logging.getLogger("gemroll_dev.demo")
console = Console(stderr=True)

REQUIRED_SERVICES = ("ingest", "classifier", "suggester", "policy")
DEMO_QUIET_SECONDS = "3"
"""The suggester's quiet period when the demo starts it (production waits minutes)."""
CONSENT_WAIT_S = 90.0
"""How long the ingest may take to learn of the opt-in (it arrives over Kafka)."""
BASIS = {"shared": "shared by the user", "edited_with_ai": "edited with AI by the user"}


class DemoError(RuntimeError):
    pass


@dataclass
class Options:
    out: Path
    user: str
    keep_running: bool
    size: str
    seed: int
    roll: Path | None
    timeout_s: float
    settle_s: float | None


@dataclass
class Run:
    """What the pipeline phase collects for the report."""

    user: str
    started_at: datetime
    media_by_file: dict[str, str] = field(default_factory=dict)
    classified: dict[str, dict[str, Any]] = field(default_factory=dict)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    acted: dict[str, str] = field(default_factory=dict)
    posters: dict[str, Path] = field(default_factory=dict)
    """Clip media id -> its poster JPEG (from the ingest), in the report folder."""
    report: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class Phases:
    """Times named phases (for the summary and the report)."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._name: str | None = None
        self._start = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._name, self._start = name, time.monotonic()

    def stop(self) -> None:
        if self._name is not None:
            self.timings[self._name] = time.monotonic() - self._start
            self._name = None


# -- the sample roll --------------------------------------------------------------------------
def prepare_roll(opts: Options, cache_dir: Path) -> tuple[Path, Manifest]:
    """The roll to upload: `--roll DIR` as it is, else the sample roll for size and seed,
    built once into `.cache/sample-roll/` and reused while it is today's plan, intact."""
    if opts.roll is not None:
        manifest = Manifest.read(opts.roll) if (opts.roll / MANIFEST_NAME).is_file() else None
        if manifest is None:
            raise DemoError(f"{opts.roll} has no {MANIFEST_NAME} (make one with "
                            "`python -m gemroll_dev.samples build DIR`)")
        return opts.roll, manifest
    folder = cache_dir / "sample-roll" / f"{opts.size}-{opts.seed}"
    if manifest := current_roll(folder, opts.size, opts.seed):  # type: ignore[arg-type]
        return folder, manifest
    return folder, build_camera_roll(folder, opts.size, opts.seed)  # type: ignore[arg-type]


# -- waiting for the pipeline -----------------------------------------------------------------
async def poll(check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str,
               every_s: float = 1.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(every_s)


async def upload_roll(api: GemrollClient, roll: Path, user: str, progress: Progress,
                      state_dir: Path) -> dict[str, str]:
    """Upload every file; the ingest learns of the new consent asynchronously, so a
    `consent_required` right after opting in is waited out (the state file resumes)."""
    files = camera_roll_files(roll)
    state = UploadState.load(state_dir / "upload-state.json", ingest_url=api.urls.ingest,
                             user=user)
    task = progress.add_task("upload", total=len(files))
    deadline = time.monotonic() + CONSENT_WAIT_S
    while True:
        progress.update(task, completed=0)
        try:
            summary = await upload_files(
                api, roll, files, state, metadata=manifest_metadata(roll), concurrency=3,
                on_done=lambda *_: progress.advance(task))
            break
        except UploadAborted as exc:
            if exc.error.code != "consent_required":
                raise DemoError(f"upload refused: {exc.error}") from None
            if time.monotonic() > deadline:
                raise DemoError(
                    f"the ingest still refuses uploads {CONSENT_WAIT_S:.0f}s after the opt-in: "
                    "the policy's ConsentChanged has not reached it (see policy.log and "
                    "ingest.log)") from None
            await asyncio.sleep(0.5)
    if summary.failed:
        raise DemoError(f"{len(summary.failed)} uploads failed, e.g. {summary.failed[0]}")
    if rejected := [r for r in summary.results if r.entry.status == "rejected"]:
        raise DemoError(f"the ingest rejected {len(rejected)} sample items, e.g. "
                        f"{rejected[0].name}: {rejected[0].entry.error}")
    return summary.media_ids


async def wait_suggestions(api: GemrollClient, progress: Progress, *, settle_s: float,
                           timeout_s: float) -> list[dict[str, Any]]:
    """Suggestions are made once an event has been quiet for a while: wait until some exist
    and their number (and revisions) stayed the same for `settle_s`."""
    task = progress.add_task("suggest", total=None)
    seen: list[dict[str, Any]] = []
    signature: object = None
    changed_at = time.monotonic()

    async def settled() -> bool:
        nonlocal seen, signature, changed_at
        seen = await api.suggestions()
        now_sig = sorted((s["id"], s["revision"]) for s in seen)
        if now_sig != signature:
            signature, changed_at = now_sig, time.monotonic()
            progress.update(task, completed=len(seen), total=len(seen) or None)
        return bool(seen) and time.monotonic() - changed_at >= settle_s

    await poll(settled, timeout_s=timeout_s, what="suggestions")
    progress.update(task, total=len(seen), completed=len(seen))
    return seen


def pick_actions(suggestions: list[dict[str, Any]]) -> dict[str, str]:
    """Share the largest shareable highlight (or collage) and apply one AI edit."""
    chosen: dict[str, str] = {}
    group = [s for s in suggestions if s["kind"] in ("highlight", "collage")
             and s["shareable"] and s["status"] == "proposed"]
    group.sort(key=lambda s: (s["kind"] != "highlight", -len(s["media_ids"])))
    if group:
        chosen[str(group[0]["id"])] = "share"
    edits = [s for s in suggestions if s["kind"] == "edit" and s["status"] == "proposed"]
    if edits:
        chosen[str(edits[0]["id"])] = "edit"
    return chosen


async def act_and_wait_for_report(api: GemrollClient, suggestions: list[dict[str, Any]],
                                  chosen: dict[str, str], progress: Progress,
                                  timeout_s: float) -> dict[str, Any]:
    """Take the chosen actions, then wait until the training report admits their photos."""
    by_id = {str(s["id"]): s for s in suggestions}
    expected: set[str] = set()
    for suggestion_id, action in chosen.items():
        await api.act(suggestion_id, action)
        expected |= {str(m) for m in by_id[suggestion_id]["media_ids"]}
    task = progress.add_task("train", total=len(expected))
    report: dict[str, Any] = {}

    async def admitted() -> bool:
        nonlocal report
        report = await api.training_report()
        done = {str(i["media_id"]) for i in report["items"] if i["status"] == "admitted"}
        progress.update(task, completed=len(done & expected))
        return expected <= done

    await poll(admitted, timeout_s=timeout_s, what="the training report to admit "
               f"{len(expected)} shared or AI-edited photos")
    return report


async def run_pipeline(urls: ServiceUrls, bootstrap: str, topic_suffix: str, roll: Path,
                       opts: Options, run: Run, phases: Phases, state_dir: Path) -> None:
    ukey = user_key_of(run.user)
    token = dev_token(run.user)
    stop = asyncio.Event()
    ready = asyncio.Event()

    def on_classified(_topic: str, event: Any, _raw: bytes, _error: str | None) -> bool:
        if isinstance(event, MediaClassified) and event.data.user_key == ukey:
            run.classified[str(event.data.media_id)] = event.data.model_dump(mode="json")
            return True
        return False

    watcher = asyncio.create_task(follow(
        bootstrap, [MEDIA_CLASSIFIED.name + topic_suffix], on_classified, stop=stop,
        on_ready=ready.set))
    columns = (TextColumn("[bold]{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    def watching() -> None:
        """Fail fast when following the topic broke (instead of waiting for a timeout)."""
        if watcher.done():
            error = watcher.exception() if not watcher.cancelled() else None
            raise DemoError(f"stopped following {MEDIA_CLASSIFIED.name}: {error!r}")

    try:
        positioned = asyncio.create_task(ready.wait())
        await asyncio.wait({watcher, positioned}, timeout=30,
                           return_when=asyncio.FIRST_COMPLETED)
        positioned.cancel()
        watching()
        if not ready.is_set():
            raise DemoError(f"could not follow {MEDIA_CLASSIFIED.name} on {bootstrap} in 30s")
        async with GemrollClient(urls, token) as api:
            with Progress(*columns, console=console) as progress:
                phases.start("opt in + upload")
                await api.set_consent(camera_roll=True, training_opt_out=False)
                run.media_by_file = await upload_roll(api, roll, run.user, progress, state_dir)

                phases.start("classify")
                wanted = set(run.media_by_file.values())
                task = progress.add_task("classify", total=len(wanted))

                async def all_classified() -> bool:
                    watching()
                    progress.update(task, completed=len(wanted & run.classified.keys()))
                    return wanted <= run.classified.keys()

                await poll(all_classified, timeout_s=opts.timeout_s, every_s=0.3,
                           what=f"{len(wanted)} items to be classified")

                phases.start("suggest")
                settle = opts.settle_s if opts.settle_s is not None else 6.0
                run.suggestions = await wait_suggestions(
                    api, progress, settle_s=settle, timeout_s=opts.timeout_s)

                phases.start("share + edit → training report")
                run.acted = pick_actions(run.suggestions)
                run.report = await act_and_wait_for_report(
                    api, run.suggestions, run.acted, progress, timeout_s=120)
            phases.start("report")
            run.suggestions = await api.suggestions()  # statuses after the actions
            await fetch_previews(api, run, opts.out)
            run.posters = await fetch_posters(api, clip_ids(run.classified), opts.out)
            await fetch_recaps(api, run.suggestions, opts.out)
    finally:
        stop.set()
        await asyncio.gather(watcher, return_exceptions=True)


async def fetch_previews(api: GemrollClient, run: Run, out: Path) -> None:
    for s in run.suggestions:
        if not s.get("preview_url"):
            continue
        try:
            data, _ = await api.preview(str(s["id"]))
        except ApiError as exc:
            log.warning("no preview for %s: %s", s["id"], exc)
            continue
        s["_preview"] = await asyncio.to_thread(
            write_jpeg, data, out / "previews" / f"{s['id']}.jpg", 1200)


# -- the report -------------------------------------------------------------------------------
def training_of(media_id: str, report: dict[str, Any], suggested: dict[str, list[str]],
                is_gem: bool) -> Training:
    """Eligibility of one photo: what the policy's report says, else why not."""
    entries = [e for e in report.get("items", []) if str(e["media_id"]) == media_id]
    admitted = [e for e in entries if e["status"] == "admitted"]
    if admitted:
        bases = sorted({BASIS.get(e["basis"], e["basis"]) for e in admitted})
        extra = (" (its AI-edited copy too)"
                 if any(e["source"] == "suggester" for e in admitted) else "")
        return Training(True, "admitted", f"admitted: {' and '.join(bases)}{extra}")
    if entries:
        reason = (entries[0].get("retraction_reason") or "").replace("_", " ")
        return Training(False, "retracted", f"retracted: {reason}")
    if media_id in suggested:
        return Training(False, "not admitted",
                        "held: suggested, but never shared or edited with AI")
    if not is_gem:
        return Training(False, "not admitted",
                        "held: not a gem, never suggested, shared or edited with AI")
    return Training(False, "not admitted", "held: never shared or edited with AI")


def sample_kind(item: SampleItem) -> str:
    if item.junk_reason is not None:
        return str(item.junk_reason)
    if item.video is not None:
        return "real clip" if item.video.motion == "camera" else "steady clip"
    return "burst best shot" if item.burst_id else "good photo"


def write_thumbnail(source: Path | None, dest: Path) -> Path:
    """The item's own file (a photo) or its poster (a clip); grey when a clip has none."""
    return write_jpeg(source, dest) if source else write_placeholder(dest)


def build_report(run: Run, roll: Path, manifest: Manifest, out: Path) -> DemoReport:
    samples = {i.file_name: i for i in manifest.items}
    names = {media_id: name for name, media_id in run.media_by_file.items()}
    suggested: dict[str, list[str]] = {}
    for s in run.suggestions:
        for m in s["media_ids"]:
            suggested.setdefault(str(m), []).append(str(s["id"]))
    order = sorted(run.media_by_file.items(), key=lambda kv: (
        samples[kv[0]].captured_at.astimezone(UTC) if kv[0] in samples
        else datetime.max.replace(tzinfo=UTC), kv[0]))
    thumbs = {media_id: out / "images" / f"{media_id}.jpg" for _, media_id in order}
    sources = {m: _thumb_source(roll / name, run.posters.get(m)) for name, m in order}
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(lambda kv: write_thumbnail(sources[kv[1]], thumbs[kv[1]]), order))
    items: dict[str, Item] = {}
    for name, media_id in order:
        sample = samples.get(name)
        classified = run.classified.get(media_id)
        is_gem = bool(classified and classified["is_gem"])
        items[media_id] = Item(
            media_id=media_id, file=name, image=thumbs[media_id].relative_to(out).as_posix(),
            sample_kind=sample_kind(sample) if sample else None,
            sample_note=sample.transform if sample else None,
            sample_gem=sample.expected_gem if sample else None, classified=classified,
            training=training_of(media_id, run.report, suggested, is_gem),
            reason_labels=[reason_label(c, names)
                           for c in (classified or {}).get("reasons", [])],
            video=video_view(classified, sample, _relative(run.posters.get(media_id), out)),
        )
    suggestions = []
    kind_order = {"highlight": 0, "collage": 1, "edit": 2}
    for s in sorted(run.suggestions, key=lambda s: (str(s["id"]) not in run.acted,
                                                    kind_order[s["kind"]], s["created_at"])):
        preview = s.get("_preview")
        suggestions.append(Suggestion(
            suggestion_id=str(s["id"]), kind=s["kind"], title=s["title"], status=s["status"],
            created_at=s["created_at"],
            preview=Path(preview).relative_to(out).as_posix() if preview else None,
            members=[items[str(m)] for m in s["media_ids"] if str(m) in items],
            acted=run.acted.get(str(s["id"])), recipe=s.get("recipe"),
            recap=_relative(s.get("_recap"), out),
        ))
    return DemoReport(user=run.user, started_at=run.started_at, items=list(items.values()),
                      suggestions=suggestions, timings=run.timings, training_report=run.report)


def _thumb_source(file: Path, poster: Path | None) -> Path | None:
    """A clip's poster, a photo's own file; None for a clip without a poster."""
    return poster if poster or file.suffix.lower() in VIDEO_SUFFIXES else file


def _relative(path: Path | None, out: Path) -> str | None:
    return Path(path).relative_to(out).as_posix() if path else None


def write_report(run: Run, roll: Path, manifest: Manifest, out: Path) -> tuple[Path, DemoReport]:
    for stale in ("images", "index.html"):
        target = out / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    report = build_report(run, roll, manifest, out)
    return render(report, out), report


# -- main -------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m gemroll_dev.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the stack and services running afterwards")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder (default: <repo>/reports/demo)")
    parser.add_argument("--user", default=None, help="demo user (default: demo-<time>)")
    parser.add_argument("--size", default="demo", choices=("demo", "eval"),
                        help="sample roll size (demo: ~50 items)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--roll", type=Path, default=None,
                        help="upload this sample roll folder instead (needs manifest.json)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for classification and for suggestions")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds without new suggestions before they count as complete")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Options(out=args.out, user=args.user or f"demo-{stamp}",
                   keep_running=args.keep_running, size=args.size, seed=args.seed,
                   roll=args.roll, timeout_s=args.timeout, settle_s=args.settle)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    started = time.monotonic()
    run = Run(user=opts.user, started_at=datetime.now(UTC))
    phases = Phases(run.timings)
    cfg = StackConfig.load()
    opts.out = (opts.out or cfg.root / "reports" / "demo").resolve()
    # Services the demo starts plan suggestions after a short quiet period.
    os.environ.setdefault("GEMROLL_SUGGESTER_QUIET_SECONDS", DEMO_QUIET_SECONDS)

    def timed_roll() -> tuple[Path, Manifest, float]:
        begun = time.monotonic()
        folder, manifest = prepare_roll(opts, cfg.cache_dir)
        return folder, manifest, time.monotonic() - begun

    def roll_phase(seconds: float) -> str:
        return "sample roll (in parallel)" if seconds >= 1 else "sample roll (reused)"

    with ThreadPoolExecutor(1, thread_name_prefix="sample-roll") as pool:
        roll_future = pool.submit(timed_roll)
        phases.start("stack up")
        with console.status("starting the stack and the services "
                            f"(logs: {cfg.log_dir}) …"):
            try:
                result = up(cfg)
            except StackError as exc:
                console.print(f"[red]the stack did not come up:[/] {exc}")
                return 1
        phases.stop()
        started_here = result.started
        try:
            missing = [s for s in REQUIRED_SERVICES if f"{s.upper()}_URL" not in result.exports]
            if missing:
                raise DemoError(f"services missing from the stack: {', '.join(missing)}")
            with console.status("building the sample camera roll …"):
                roll, manifest, seconds = roll_future.result()
            run.timings[roll_phase(seconds)] = seconds
            console.print(f"[green]✓[/] stack up ({len(started_here)} started here), "
                          f"sample roll: {len(manifest.items)} items in {roll}")
            urls = ServiceUrls.first_of(result.exports)  # every service is there (checked)
            suffix = os.environ.get("KAFKA_TOPIC_SUFFIX", "")
            with tempfile.TemporaryDirectory(prefix="gemroll-demo-") as state_dir:
                asyncio.run(run_pipeline(urls, result.endpoints.kafka_bootstrap, suffix, roll,
                                         opts, run, phases, Path(state_dir)))
            path, report = write_report(run, roll, manifest, opts.out)
            phases.stop()
            run.timings["total"] = time.monotonic() - started
            render(report, opts.out)  # again, with the final timings
        except (DemoError, ApiError, SamplesError) as exc:
            console.print(f"[red]demo failed:[/] {exc}\n(service logs: {cfg.log_dir})")
            return 1
        finally:
            if started_here and not opts.keep_running:
                with console.status(f"stopping what the demo started ({len(started_here)}) …"):
                    down(cfg, only=started_here)

    print(f"\nreport: {path}")
    for line in report.summary_lines():
        print(f"  {line}")
    print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items()))
    if opts.keep_running:
        review = result.exports.get("REVIEW_URL")
        if review:
            print(f"\nreview page: {review}/#token={dev_token(run.user)}")
        default_run = cfg.run_dir == (cfg.root / ".run").resolve()
        stop = "make down" if default_run else (
            f"GEMROLL_STACK_RUN_DIR={cfg.run_dir} .venv/bin/python -m gemroll_dev.stack down")
        print(f"the stack keeps running; stop it with `{stop}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
