"""PostgreSQL through asyncpg: a pool per service schema and versioned SQL migrations.

Each service owns one schema (`ingest`, `classifier`, ...). Migrations are the package's
`migrations/NNNN_name.sql` files, applied in order at startup under an advisory lock and
recorded in `<schema>.schema_migrations`.
"""

from __future__ import annotations

import re
import ssl
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from .logging import get_logger
from .settings import DatabaseSettings

log = get_logger(__name__)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _url_params(settings: DatabaseSettings) -> dict[str, str]:
    query = parse_qs(urlsplit(settings.url.get_secret_value()).query)
    return {key: values[-1] for key, values in query.items() if values}


def ssl_option(settings: DatabaseSettings) -> Any:
    """asyncpg's `ssl` argument, with libpq's meaning of the modes.

    DATABASE_SSLMODE wins over the URL's `sslmode` (an explicit `ssl` argument makes asyncpg
    ignore the URL's). verify-ca / verify-full check the server against DATABASE_SSLROOTCERT
    (or the URL's `sslrootcert`, else the system CAs); as in libpq, `require` with a root
    certificate verifies the chain too. None leaves everything to asyncpg (default: prefer).
    """
    params = _url_params(settings)
    mode = settings.sslmode or params.get("sslmode")
    if mode is None:
        return None
    if mode == "disable":
        return False
    rootcert = settings.sslrootcert or params.get("sslrootcert")
    if mode in ("verify-ca", "verify-full") or (mode == "require" and rootcert):
        ctx = ssl.create_default_context(cafile=rootcert)
        ctx.check_hostname = mode == "verify-full"
        certfile = settings.sslcert or params.get("sslcert")
        if certfile:
            ctx.load_cert_chain(certfile, settings.sslkey or params.get("sslkey"))
        return ctx
    return mode  # "allow" / "prefer" / "require": encrypted, unverified; asyncpg knows them


async def create_pool(settings: DatabaseSettings, schema: str) -> asyncpg.Pool:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")

    async def init(conn: asyncpg.Connection) -> None:
        for json_type in ("json", "jsonb"):
            await conn.set_type_codec(
                json_type, encoder=_json_dumps, decoder=_json_loads, schema="pg_catalog"
            )

    pool = await asyncpg.create_pool(
        settings.url.get_secret_value(),
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        ssl=ssl_option(settings),
        init=init,
        command_timeout=30,
        # A startup parameter, not a SET: the pool's RESET ALL on release keeps it.
        server_settings={"search_path": f"{schema}, public"},
    )
    assert pool is not None
    return pool


def _json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), default=str)


def _json_loads(value: str) -> Any:
    import json

    return json.loads(value)


def _migration_files(package: str) -> list[tuple[int, str, str]]:
    root = resources.files(package).joinpath("migrations")
    found = []
    for entry in root.iterdir():
        match = re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found)


async def migrate(pool: asyncpg.Pool, schema: str, package: str, *,
                  through: int | None = None) -> list[str]:
    """Apply the package's pending migrations to `schema`; return the names applied.
    `through`: stop after that version (the schema as an older release left it)."""
    applied: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET LOCAL search_path TO {schema}, public")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in _migration_files(package):
            if version in done or (through is not None and version > through):
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
            applied.append(name)
    if applied:
        log.info("migrations_applied", schema=schema, migrations=applied)
    return applied


async def ping(pool: asyncpg.Pool) -> bool:
    async with pool.acquire(timeout=2) as conn:
        return await conn.fetchval("SELECT 1") == 1
