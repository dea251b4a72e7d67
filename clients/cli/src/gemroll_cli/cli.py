"""`gemroll`: the command line for users: tokens, consent, folder uploads, suggestions and
actions.

Service URLs come from the environment (INGEST_URL, SUGGESTER_URL, POLICY_URL), else from the
local stack's `.run/stack.env`. Commands that act for a user take `--user USER` (a development
token is made for them) or `--token JWT`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="gemroll: hidden gems in your camera roll.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

UserOpt = Annotated[str | None, typer.Option("--user", "-u",
                                            help="Act as this user (development token).")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="GEMROLL_TOKEN",
                                              help="Bearer token to use instead of --user.")]


def _token(user: str | None, token: str | None) -> str:
    if token:
        return token
    if not user:
        err.print("[red]error:[/] give --user USER (or --token / GEMROLL_TOKEN)")
        raise typer.Exit(2)
    from .tokens import dev_token

    return dev_token(user)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro`, turning API errors into a one-line message and exit code 1."""
    from .client import ApiError

    try:
        return asyncio.run(coro)
    except ApiError as exc:
        hint = {"consent_required": " (opt in first: gemroll consent USER on)"}.get(exc.code, "")
        err.print(f"[red]error:[/] {escape(str(exc))}{hint}")
        raise typer.Exit(1) from None


def _client(token: str):  # type: ignore[no-untyped-def]
    from .client import GemrollClient, ServiceUrls

    return GemrollClient(ServiceUrls.discover(), token)


@app.command()
def token(user: str,
          ttl_hours: Annotated[int, typer.Option(help="Token lifetime.")] = 12) -> None:
    """Print a development bearer token (HS256) for USER."""
    from .tokens import dev_token

    typer.echo(dev_token(user, ttl_seconds=ttl_hours * 3600))


@app.command()
def consent(
    user: str,
    state: Annotated[str, typer.Argument(
        metavar="on|off", help="on: opt in to camera-roll suggestions; off: opt out.")],
    training: Annotated[str | None, typer.Option(
        metavar="ok|opt-out", help="Also set the training opt-out.")] = None,
) -> None:
    """Opt USER in to (or out of) camera-roll uploads and suggestions."""
    if state not in ("on", "off") or training not in (None, "ok", "opt-out"):
        err.print("[red]error:[/] STATE is on|off and --training is ok|opt-out")
        raise typer.Exit(2)
    opt_out = None if training is None else training == "opt-out"

    async def go() -> dict[str, Any]:
        async with _client(_token(user, None)) as api:
            return await api.set_consent(camera_roll=state == "on", training_opt_out=opt_out)

    result = _run(go())
    out.print(f"{user}: camera_roll={result.get('camera_roll')} "
              f"training_opt_out={result.get('training_opt_out')}")
    if result.get("in_effect") is False:
        waiting = ", ".join(result.get("waiting_for") or ["some services"])
        err.print(f"[yellow]recorded; not yet in effect at {waiting}[/] (it takes effect as "
                  "soon as they catch up)")


@app.command()
def upload(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, dir_okay=True,
                                           help="Folder of photos (searched recursively).")],
    user: UserOpt = None,
    token_: TokenOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Uploads in flight.")] = 4,
    state_file: Annotated[Path | None, typer.Option(
        "--state", help="Resume file (default: DIR/.gemroll-upload-<user>.json).")] = None,
    give_up_after: Annotated[float, typer.Option(
        min=0, help="Seconds one file is retried while the service is down or busy.")] = 600.0,
) -> None:
    """Upload a folder of photos: with a progress bar, resumable, skipping duplicates.
    Killed or interrupted, a rerun sends only what was not answered yet; the service's answer
    to a photo it already has is `duplicate`, so nothing is stored twice."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .client import ServiceUrls
    from .upload import (
        UploadAborted,
        UploadState,
        UploadSummary,
        camera_roll_files,
        default_state_file,
        file_size_total,
        manifest_metadata,
        upload_files,
    )

    bearer = _token(user, token_)
    owner = user or "token"
    files = camera_roll_files(folder)
    if not files:
        err.print(f"[yellow]no photos or videos in {escape(str(folder))}[/] "
                  "(jpeg, png, heic, heif, avif, webp; mp4, mov, m4v, mkv, webm)")
        raise typer.Exit(1)
    urls = ServiceUrls.discover()
    state = UploadState.load(state_file or default_state_file(folder, owner),
                             ingest_url=urls.ingest, user=owner)
    total_mb = file_size_total(files) / 1e6
    bar = Progress(TextColumn("[bold]uploading"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("files  {task.fields[mb]:.1f}/" f"{total_mb:.1f} MB"),
                   TimeRemainingColumn(), console=err)

    async def go() -> UploadSummary:
        async with _client(bearer) as api:
            with bar:
                task = bar.add_task("upload", total=len(files), mb=0.0)

                def done(result: Any, path: Path) -> None:
                    resumed = result is not None and result.resumed
                    mb = bar.tasks[task].fields["mb"] + (path.stat().st_size / 1e6 if resumed
                                                         else 0.0)
                    bar.update(task, advance=1, mb=mb)

                def sent(n: int) -> None:
                    bar.update(task, mb=bar.tasks[task].fields["mb"] + n / 1e6)

                return await upload_files(api, folder, files, state, concurrency=concurrency,
                                          metadata=manifest_metadata(folder), on_done=done,
                                          on_bytes=sent, give_up_s=give_up_after)

    try:
        summary = _run(go())
    except UploadAborted as exc:
        hint = (" (opt in first: gemroll consent USER on)"
                if exc.error.code == "consent_required" else "")
        err.print(f"[red]stopped:[/] {escape(exc.error.message)} ({exc.error.code}){hint}; "
                  f"{len(exc.summary.results)} files done before, a rerun resumes")
        raise typer.Exit(1) from None
    out.print(
        f"{summary.count('accepted', resumed=False)} uploaded, "
        f"{summary.count('duplicate', resumed=False)} duplicates skipped, "
        f"{sum(r.resumed for r in summary.results)} already done earlier, "
        f"{summary.count('rejected')} rejected, {len(summary.failed)} failed"
    )
    for result in summary.results:
        if result.entry.status == "rejected" and not result.resumed:
            reason = escape(result.entry.error or "")
            out.print(f"  [yellow]rejected[/] {escape(result.name)}: {reason}")
    for name, reason in summary.failed:
        out.print(f"  [red]failed[/] {escape(name)}: {escape(reason)}")
    out.print(f"state: {escape(str(state.path))}")
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def sync(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, dir_okay=True,
                                           help="Folder to keep in step (recursively).")],
    user: UserOpt = None,
    token_: TokenOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Uploads in flight.")] = 4,
    state_file: Annotated[Path | None, typer.Option(
        "--state", help="Resume file (default: DIR/.gemroll-upload-<user>.json).")] = None,
    debounce_ms: Annotated[int, typer.Option(
        "--debounce-ms", min=50, help="Changes are gathered this long before acting.")] = 1500,
    settle_s: Annotated[float, typer.Option(
        min=0, help="A file is sent once unchanged for this long (copies finish).")] = 1.0,
    retry_s: Annotated[float, typer.Option(
        min=1, help="Seconds before what could not be sent is tried again.")] = 30.0,
    rescan_s: Annotated[float, typer.Option(
        min=1, help="Seconds between full rescans (what a watcher can miss).")] = 300.0,
    give_up_after: Annotated[float, typer.Option(
        min=0, help="Seconds one file is retried before waiting for the next try.")] = 600.0,
    poll: Annotated[bool, typer.Option(
        help="Poll the folder instead of file-system events (network drives).")] = False,
) -> None:
    """Keep uploading FOLDER: new and changed photos go up as they appear (debounced, sent
    once fully written, resumable, never twice), through outages of the service. Runs until
    interrupted (Ctrl-C, SIGTERM), then prints a summary. Deleting a local file does not
    delete its uploaded copy (use `DELETE /v1/media/{id}` or the review page for that)."""
    import signal

    from rich.live import Live

    from .client import ServiceUrls
    from .sync import SyncTotals, sync_folder
    from .upload import UploadState, default_state_file, manifest_metadata

    bearer = _token(user, token_)
    owner = user or "token"
    urls = ServiceUrls.discover()
    state = UploadState.load(state_file or default_state_file(folder, owner),
                             ingest_url=urls.ingest, user=owner)

    def line(t: SyncTotals) -> str:
        text = (f"[bold]syncing[/] {escape(str(folder))}: {t.uploaded} uploaded, "
                f"{t.duplicates} duplicates, {len(t.rejected)} rejected, {t.pending} pending")
        return text + (f" [yellow]paused: {escape(t.paused)}[/]" if t.paused else "")

    async def go() -> SyncTotals:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with _client(bearer) as api:
            with Live(line(SyncTotals()), console=err, refresh_per_second=4,
                      transient=True) as live:
                return await sync_folder(
                    api, folder, state, stop=stop, concurrency=concurrency,
                    debounce_ms=debounce_ms, settle_s=settle_s, retry_s=retry_s,
                    rescan_s=rescan_s, give_up_s=give_up_after, force_polling=poll,
                    metadata=manifest_metadata(folder),
                    on_change=lambda t: live.update(line(t)))

    totals = _run(go())
    out.print(f"{totals.uploaded} uploaded, {totals.duplicates} duplicates skipped, "
              f"{len(totals.rejected)} rejected, {totals.pending} pending (sent on the next "
              "run)")
    for name, reason in totals.rejected:
        out.print(f"  [yellow]rejected[/] {escape(name)}: {escape(reason)}")
    if totals.paused:
        out.print(f"[yellow]paused:[/] {escape(totals.paused)}")
    out.print(f"state: {escape(str(state.path))}")


@app.command()
def suggestions(
    user: UserOpt = None,
    token_: TokenOpt = None,
    status_: Annotated[str | None, typer.Option(
        "--status", help="proposed, edited, saved, shared, dismissed, withdrawn.")] = None,
    kind: Annotated[str | None, typer.Option(help="edit, highlight or collage.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """List a user's suggestions."""
    bearer = _token(user, token_)

    async def go() -> list[dict[str, Any]]:
        async with _client(bearer) as api:
            return await api.suggestions(status=status_, kind=kind)

    found = _run(go())
    if as_json:
        typer.echo(json.dumps(found, indent=1))
        return
    table = Table(title=f"{len(found)} suggestions", title_justify="left")
    for column in ("id", "kind", "status", "title", "photos", "created"):
        table.add_column(column)
    for s in found:
        created = datetime.fromisoformat(s["created_at"]).strftime("%Y-%m-%d %H:%M")
        table.add_row(str(s["id"]), s["kind"], s["status"], s["title"],
                      str(len(s["media_ids"])), created)
    out.print(table)


@app.command()
def act(
    suggestion_id: str,
    action: Annotated[str, typer.Argument(metavar="save|share|edit|dismiss|unshare")],
    user: UserOpt = None,
    token_: TokenOpt = None,
) -> None:
    """Save, share, edit (apply the AI edit), dismiss or unshare (take a share back) a
    suggestion."""
    bearer = _token(user, token_)

    async def go() -> dict[str, Any]:
        async with _client(bearer) as api:
            result = await api.act(suggestion_id, action)
            if result.get("share_url"):
                result["share_url"] = api.public_url(result["share_url"])
            return result

    try:
        result = _run(go())
    except ValueError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    done = "" if result["applied"] else " (already done before)"
    out.print(f"{suggestion_id}: {result['suggestion']['status']}{done}")
    if result.get("share_url"):
        out.print(f"link: {result['share_url']} (anyone with it can see it; "
                  f"`gemroll act {suggestion_id} unshare` closes it)")


@app.command()
def recap(
    suggestion_id: str,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Where to write the MP4 (default: recap-<id>.mp4).")] = None,
    user: UserOpt = None,
    token_: TokenOpt = None,
) -> None:
    """Download a highlight's recap movie (MP4: a title card, its photos and its videos' best
    moments)."""
    bearer = _token(user, token_)

    async def go() -> bytes:
        async with _client(bearer) as api:
            return await api.recap(suggestion_id)

    movie = _run(go())
    target = output or Path(f"recap-{suggestion_id}.mp4")
    target.write_bytes(movie)
    out.print(f"{escape(str(target))}: {len(movie) / 1e6:.1f} MB")


@app.command()
def links(user: UserOpt = None, token_: TokenOpt = None) -> None:
    """List the user's share links that open now."""
    bearer = _token(user, token_)

    async def go() -> list[dict[str, Any]]:
        async with _client(bearer) as api:
            return await api.share_links()

    found = _run(go())
    if not found:
        out.print("no open share links")
    for link in found:
        out.print(f"{link['url']}  {link['kind']}  {escape(link['title'])}  "
                  f"until {link['expires_at'][:10]}")


if __name__ == "__main__":
    app()
