"""`gemroll ingest ...`: talk to the running ingest service (hook: `app.add_typer(ingest_app,
name="ingest")` in cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

ingest_app = typer.Typer(help="Upload and list photos through the ingest service.",
                         no_args_is_help=True)


def _service_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    from gemroll_dev.stack.config import StackConfig, read_env_file

    env_file = StackConfig.load().env_file
    found = read_env_file(env_file).get("INGEST_URL") if env_file.exists() else None
    if not found:
        raise typer.BadParameter("no INGEST_URL in .run/stack.env: run `make up` or pass --url")
    return found.rstrip("/")


def _headers(user: str) -> dict[str, str]:
    from gemroll_common.auth import issue_dev_token
    from gemroll_common.settings import AuthSettings

    return {"Authorization": f"Bearer {issue_dev_token(user, AuthSettings())}"}


@ingest_app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: Annotated[str, typer.Option(help="Account id to upload as (a dev token is made).")],
    album: Annotated[str | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option()] = None,
    url: Annotated[str | None, typer.Option(help="Ingest base URL (default: INGEST_URL).")] = None,
) -> None:
    """Upload photos (multipart, one request per file); prints one JSON line per file."""
    import httpx

    metadata = json.dumps({k: v for k, v in {"album": album, "device": device}.items() if v})
    failed = False
    with httpx.Client(base_url=_service_url(url), headers=_headers(user), timeout=300) as client:
        for path in files:
            with path.open("rb") as stream:
                response = client.post("/v1/media", files={"file": (path.name, stream)},
                                       data={"metadata": metadata})
            failed |= response.is_error
            typer.echo(json.dumps({"file": str(path), "http_status": response.status_code,
                                   **response.json()}))
    raise typer.Exit(1 if failed else 0)


@ingest_app.command("ls")
def list_media(
    user: Annotated[str, typer.Option(help="Account id whose photos to list.")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    cursor: Annotated[str | None, typer.Option()] = None,
    url: Annotated[str | None, typer.Option(help="Ingest base URL (default: INGEST_URL).")] = None,
) -> None:
    """List a user's photos, newest first (one page; prints the next cursor)."""
    import httpx

    params: dict[str, str | int] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    response = httpx.get(f"{_service_url(url)}/v1/media", params=params, headers=_headers(user),
                         timeout=30)
    if response.is_error:
        typer.echo(response.text, err=True)
        raise typer.Exit(1)
    page = response.json()
    for item in page["items"]:
        typer.echo(f"{item['media_id']}  {item['content_type']:<11} {item['width']}x"
                   f"{item['height']}  {item['pipeline']['stage']:<10} "
                   f"{item['captured_at'] or '-'}")
    if page["next_cursor"]:
        typer.echo(f"next: --cursor {page['next_cursor']}")


@ingest_app.command()
def sample(
    out: Annotated[Path, typer.Argument(file_okay=False, help="Folder to write into.")],
    count: Annotated[int, typer.Option(min=1)] = 3,
) -> None:
    """Write sample photos (JPEG with EXIF and GPS, HEIC, PNG) for trying the service."""
    from gemroll_dev.bench import ingest_samples as samples

    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        tags = samples.exif(make="Canon", model="EOS R5", taken="2024:05:06 07:08:09",
                            offset="+02:00", gps=(48.8584, 2.2945))
        for name, data in ((f"sample-{i}.jpg", samples.jpeg(1200, 800, exif_data=tags)),
                           (f"sample-{i}.heic", samples.heic(1200, 800, exif_data=tags)),
                           (f"sample-{i}.png", samples.png(600, 400))):
            (out / name).write_bytes(data)
            typer.echo(out / name)
