"""`gemroll-dev`: the developer's command line: the local stack, live topics, the review page.
The user's commands (token, consent, upload, suggestions, act) are `gemroll` (gemroll_cli).

Service URLs and Kafka come from the environment (INGEST_URL, SUGGESTER_URL, POLICY_URL,
KAFKA_BOOTSTRAP_SERVERS), else from the running stack's `.run/stack.env`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(help="gemroll-dev: the local stack, live topics and the review page.",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command()
def up() -> None:
    """Start the local stack and the services (see .run/stack.env)."""
    from .stack.__main__ import main

    raise typer.Exit(main(["up"]))


@app.command()
def down() -> None:
    """Stop everything `gemroll-dev up` started."""
    from .stack.__main__ import main

    raise typer.Exit(main(["down"]))


@app.command()
def status() -> None:
    """Show what is running."""
    from .stack.__main__ import main

    raise typer.Exit(main(["status"]))


@app.command()
def tail(
    topics: Annotated[list[str], typer.Argument(
        help="Topic names, full or short (media.classified, suggestions, user-actions, ...).")],
    from_beginning: Annotated[bool, typer.Option(
        "--from-beginning", help="Replay the topics from their start.")] = False,
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="Only this user's events.")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", help="Stop after N events shown.")] = None,
    suffix: Annotated[str, typer.Option(
        envvar="KAFKA_TOPIC_SUFFIX", help="Topic suffix (isolated test topics).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print each event's JSON.")] = False,
) -> None:
    """Follow topics and pretty-print each event as it arrives (Ctrl-C stops)."""
    from gemroll_cli.discovery import stack_value
    from gemroll_cli.tokens import user_key_of

    from .tail import resolve_topic, run_follow, summarize, user_of

    try:
        names = [resolve_topic(t) + suffix for t in topics]
    except KeyError as exc:
        err.print(f"[red]error:[/] {escape(exc.args[0])}")
        raise typer.Exit(2) from None
    only = user_key_of(user) if user else None
    bootstrap = stack_value("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")

    def show(topic: str, event: Any, raw: bytes, error: str | None) -> bool:
        if event is None:
            shown = escape(f"{error}  {raw[:120]!r}")
            out.print(f"[red]unparseable[/] on {topic}: {shown}")
            return True
        if only and user_of(event) != only:
            return False
        if as_json:
            typer.echo(event.model_dump_json())
            return True
        when = event.occurred_at.astimezone().strftime("%H:%M:%S")
        who = (user_of(event) or getattr(event.data, "subject", "") or "")[:8]
        out.print(f"[dim]{when}[/] [bold cyan]{event.event_type:<19}[/] [dim]{who:<8}[/] "
                  f"{escape(summarize(event))}", highlight=False, soft_wrap=True)
        return True

    try:
        run_follow(bootstrap, names, show, from_beginning=from_beginning, limit=limit,
                   on_ready=lambda: err.print(f"following {', '.join(names)} on {bootstrap}",
                                              style="dim"))
    except LookupError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command()
def review(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 18080,
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="Print a sign-in link with a token for USER.")] = None,
) -> None:
    """Serve the review page (suggestions, actions, training report) on 127.0.0.1."""
    from gemroll_cli.discovery import stack_value

    from .review.__main__ import serve, upstreams_from_env

    running = stack_value("REVIEW_URL", "")
    url = f"http://127.0.0.1:{port}"
    if running and running.endswith(f":{port}") and _answers(f"{running}/healthz"):
        err.print(f"the review page already runs at {running} (started by `gemroll-dev up`)")
        if user:
            typer.echo(_sign_in_link(running, user))
        return
    upstreams = upstreams_from_env()
    proxied = ", ".join(f"{k} {v}" for k, v in upstreams.items())
    err.print(f"review page: {url}  (proxying {proxied})")
    if user:
        typer.echo(_sign_in_link(url, user))
    serve("127.0.0.1", port, upstreams)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).is_success
    except httpx.HTTPError:
        return False


def _sign_in_link(base: str, user: str) -> str:
    from gemroll_cli.tokens import dev_token

    return f"{base}/#token={dev_token(user)}"


if __name__ == "__main__":
    app()
