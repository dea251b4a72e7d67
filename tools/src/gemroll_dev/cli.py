"""`gemroll`: the project's command-line tool."""

from __future__ import annotations

import typer

app = typer.Typer(help="gemroll: hidden gems in your camera roll.", no_args_is_help=True)


@app.command()
def token(user: str, ttl_hours: int = typer.Option(12, help="Token lifetime.")) -> None:
    """Print a development bearer token (HS256) for USER."""
    from gemroll_common.auth import issue_dev_token
    from gemroll_common.settings import AuthSettings

    typer.echo(issue_dev_token(user, AuthSettings(), ttl_seconds=ttl_hours * 3600))


@app.command()
def up() -> None:
    """Start the local stack and the services (see .run/stack.env)."""
    from gemroll_dev.stack.__main__ import main

    raise typer.Exit(main(["up"]))


@app.command()
def down() -> None:
    """Stop everything `gemroll up` started."""
    from gemroll_dev.stack.__main__ import main

    raise typer.Exit(main(["down"]))


@app.command()
def status() -> None:
    """Show what is running."""
    from gemroll_dev.stack.__main__ import main

    raise typer.Exit(main(["status"]))


if __name__ == "__main__":
    app()
