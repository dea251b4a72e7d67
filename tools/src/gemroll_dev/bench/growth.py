"""Growth benchmark: `python -m gemroll_dev.bench.growth` (what `make bench-growth` runs).

One user's roll grows to 1k, 10k and 100k media (`--sizes`), ten years of photos; at each
size the per-photo costs that could grow with the roll are measured on the real PostgreSQL
and object store, with the services' own adapters and use cases:

* classifier: the near-duplicate lookup of a new photo (the window of recent shots with
  their 1280-d embeddings, then the grouping itself);
* suggester: a new classified photo taken in (its event found or made, in one transaction)
  and that event planned (photos read, suggestions rendered and stored, outbox written);
* ingest: `GET /v1/media` paged through the whole roll with its cursors (median page, and
  the deepest pages, every item exactly once);
* suggester: `GET /v1/suggestions` paged through as many suggestions as the roll has media.

The rows are written with SQL (what the services would have stored: embeddings, events,
suggestions); the new photos go through the code. Every figure is the median of `--repeats`
and is compared with the same figure at the smallest size measured in this run: flat means a
ratio near 1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
from gemroll_classifier.adapters.postgres import PostgresResults
from gemroll_classifier.domain.duplicates import Shot, assign_groups
from gemroll_common.db import create_pool, migrate
from gemroll_common.storage import ObjectStore
from gemroll_ingest.adapters.postgres.media import PgMediaRepository
from gemroll_ingest.domain.paging import Cursor, page_of
from gemroll_suggester.adapters.postgres.unit import PostgresUnitOfWork
from gemroll_suggester.adapters.storage import S3Storage
from gemroll_suggester.settings import SuggesterSettings
from gemroll_suggester.usecases import intake
from gemroll_suggester.usecases.deps import Deps
from gemroll_suggester.usecases.planning import Planner
from gemroll_suggester.usecases.user_actions import list_suggestions
from gemroll_testkit.isolation import Isolated, isolate

from ..stack.testing import session_stack
from .suggester import photo, upload_originals

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SPACING = timedelta(minutes=52)
"""100k photos 52 minutes apart span ten years."""
PER_EVENT = 40
PAGE = 100
EMBEDDING_DIMS = 1280
SIZE = (1024, 768)


@dataclass
class Figures:
    size: int
    duplicate_lookup_ms: float = 0.0
    window: int = 0
    intake_ms: float = 0.0
    planning_ms: float = 0.0
    media_page_ms: float = 0.0
    """Median over every page of the walk."""
    media_deep_page_ms: float = 0.0
    """Median of the last ten pages (the oldest photos: a cursor deep in the roll)."""
    media_paged_s: float = 0.0
    suggestions_page_ms: float = 0.0
    suggestions_deep_page_ms: float = 0.0
    suggestions_paged_s: float = 0.0
    notes: list[str] = field(default_factory=list)


async def median_ms(repeats: int, fn: Callable[[int], Awaitable[object]]) -> float:
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        await fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Roll:
    """One user's roll in the three services' schemas, grown with SQL."""

    def __init__(self, env: Isolated, pools: dict[str, asyncpg.Pool], schemas: dict[str, str],
                 keys: list[str]) -> None:
        self.env = env
        self.pools = pools
        self.schemas = schemas
        self.keys = keys
        self.user = uuid.uuid4().hex
        self.size = 0
        rng = np.random.default_rng(7)
        vector = rng.standard_normal(EMBEDDING_DIMS).astype("<f4")
        self.embedding = (vector / np.linalg.norm(vector)).tobytes()

    async def grow_to(self, size: int) -> None:
        start, count = self.size + 1, size - self.size
        rows = ("FROM generate_series($3::int, $3 + $4 - 1) g, "
                "LATERAL (SELECT $2::timestamptz - g * $5::interval AS t) taken")
        await self.pools["ingest"].execute(
            "INSERT INTO media (media_id, user_key, state, source, object_key, content_type, "
            "size_bytes, sha256, width, height, captured_at, created_at, accepted_at, "
            "category, is_gem, gem_score, reasons, verdict_at) "
            "SELECT gen_random_uuid(), $1, 'accepted', 'direct', "
            "'users/' || $1 || '/media/' || g, 'image/jpeg', 3000000, md5($1 || g), 4032, "
            "3024, t, t, t, 'photo', g % 3 = 0, 0.5, '{}', t " + rows,
            self.user, NOW, start, count, SPACING)
        await self.pools["classifier"].execute(
            "INSERT INTO media_results (media_id, user_key, captured_at, category, gem_score, "
            "is_gem, quality_score, is_best, current_best, phash, embedding, reasons, "
            "classified_event) SELECT gen_random_uuid(), $1, t, 'photo', 0.5, g % 3 = 0, 0.6, "
            "true, true, (g * 2654435761) % 9223372036854775807, $6, '{}', '{}'::jsonb " + rows,
            self.user, NOW, start, count, SPACING, self.embedding)
        suggester = self.pools["suggester"]
        async with suggester.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO events (event_id, user_key, start_at, end_at, planned_at) "
                "SELECT uuid_generate_v5e(e), $1, $2::timestamptz - (e * $6 + $6 - 1) * "
                "$5::interval, $2::timestamptz - e * $6 * $5::interval, $2 "
                "FROM generate_series($3::int / $6, ($3 + $4 - 1) / $6) e "
                "ON CONFLICT DO NOTHING",
                self.user, NOW, start, count, SPACING, PER_EVENT)
            await conn.execute(
                "INSERT INTO media (media_id, user_key, event_id, bucket, object_key, width, "
                "height, taken_at, category, quality_score, is_best_in_group, face_count, "
                "embedding, gem_score, is_gem, classified_event_id, classified_at) "
                "SELECT gen_random_uuid(), $1, uuid_generate_v5e(g / $6), $7, "
                "($8::text[])[1 + g % array_length($8::text[], 1)], 1024, 768, t, 'photo', "
                "0.6, true, 0, NULL, 0.5, g % 3 = 0, gen_random_uuid(), $2 " + rows,
                self.user, NOW, start, count, SPACING, PER_EVENT, self.env.s3.bucket,
                self.keys)
            await conn.execute(
                "INSERT INTO suggestions (suggestion_id, user_key, event_id, kind, revision, "
                "media_ids, title, status, shareable, fingerprint, created_at, updated_at) "
                "SELECT gen_random_uuid(), $1, uuid_generate_v5e(g / $6), 'highlight', 1, "
                "ARRAY[gen_random_uuid()], 'Highlights', 'proposed', true, md5(g::text), t, t "
                + rows, self.user, NOW, start, count, SPACING, PER_EVENT)
        for pool in self.pools.values():
            await pool.execute("ANALYZE")
        self.size = size


async def event_uuid_function(pool: asyncpg.Pool) -> None:
    """A stable uuid per event number (events and media refer to it by number)."""
    await pool.execute(
        "CREATE OR REPLACE FUNCTION uuid_generate_v5e(n bigint) RETURNS uuid LANGUAGE sql "
        "IMMUTABLE AS $$ SELECT md5('growth-event-' || n)::uuid $$")


async def classifier_figures(roll: Roll, fig: Figures, repeats: int) -> None:
    results = PostgresResults(roll.pools["classifier"])
    rng = np.random.default_rng(11)

    async def lookup(i: int) -> None:
        taken = NOW + timedelta(minutes=i)
        recent = await results.recent_shots(roll.user, taken - timedelta(hours=72), 500)
        vector = rng.standard_normal(EMBEDDING_DIMS).astype(np.float32)
        new = Shot(media_id=str(uuid.uuid4()), category="photo", phash=int(rng.integers(2**62)),
                   embedding=vector / np.linalg.norm(vector), quality_score=0.7,
                   captured_at=taken)
        assign_groups([new], recent)
        fig.window = len(recent)

    fig.duplicate_lookup_ms = await median_ms(repeats, lookup)


async def suggester_figures(roll: Roll, fig: Figures, repeats: int, round_no: int) -> None:
    now = [datetime.now(UTC)]
    settings = SuggesterSettings(db_schema=roll.schemas["suggester"])
    deps = Deps(PostgresUnitOfWork(roll.pools["suggester"], settings.db_schema),
                S3Storage(ObjectStore(roll.env.s3)), settings, lambda: now[0])
    planner = Planner(deps)
    rng = random.Random(round_no)
    intake_times, plan_times = [], []
    for i in range(repeats):
        # a new photo a day after everything else: a new event of its own
        taken = NOW + timedelta(days=round_no * 100 + i + 1)
        event = photo(rng, roll.user, roll.keys[i % len(roll.keys)], taken, SIZE)
        event = event.model_copy(update={"data": event.data.model_copy(
            update={"is_gem": True, "gem_score": 0.9})})  # a gem: its event gets planned
        now[0] = datetime.now(UTC)
        started = time.perf_counter()
        await intake.media_classified_batch(deps, [event])
        intake_times.append((time.perf_counter() - started) * 1000)
        for attempt in range(1, 4):  # the quiet period is over: the new event is due
            now[0] = datetime.now(UTC) + attempt * timedelta(seconds=settings.quiet_seconds + 1)
            started = time.perf_counter()
            planned = await planner.run_once()
            if planned:
                plan_times.append((time.perf_counter() - started) * 1000)
                break
        else:
            fig.notes.append(f"photo {i}: its event was never due")
    fig.intake_ms = statistics.median(intake_times)
    fig.planning_ms = statistics.median(plan_times)

    started, cursor, times = time.perf_counter(), None, []
    seen: set[uuid.UUID] = set()
    while True:
        page_started = time.perf_counter()
        rows, cursor = await list_suggestions(deps, roll.user, status=None, kind=None,
                                              limit=PAGE, cursor=cursor)
        times.append((time.perf_counter() - page_started) * 1000)
        seen.update(r.suggestion_id for r in rows)
        if cursor is None:
            break
    fig.suggestions_paged_s = time.perf_counter() - started
    fig.suggestions_page_ms = statistics.median(times)
    fig.suggestions_deep_page_ms = statistics.median(times[-10:])
    if len(seen) < roll.size:
        fig.notes.append(f"suggestions paged: {len(seen)} distinct of at least {roll.size}")


async def ingest_figures(roll: Roll, fig: Figures) -> None:
    media = PgMediaRepository(roll.pools["ingest"])
    seen: set[uuid.UUID] = set()
    after: Cursor | None = None
    started, times = time.perf_counter(), []
    while True:
        page_started = time.perf_counter()
        page = page_of(await media.list(roll.user, after, PAGE + 1), PAGE)
        times.append((time.perf_counter() - page_started) * 1000)
        before = len(seen)
        seen.update(item.media_id for item in page.items)
        if len(seen) - before != len(page.items):
            fig.notes.append("a media item came twice while paging")
        if page.next_cursor is None:
            break
        after = Cursor.decode(page.next_cursor)
    fig.media_paged_s = time.perf_counter() - started
    fig.media_page_ms = statistics.median(times)
    fig.media_deep_page_ms = statistics.median(times[-10:])
    if len(seen) != roll.size:
        fig.notes.append(f"media paged: {len(seen)} of {roll.size}")


async def run(sizes: list[int], repeats: int) -> list[Figures]:
    with session_stack() as stack:  # reused when running, else started and stopped
        env = await isolate(stack, uuid.uuid4().hex[:8])
        schemas = {name: f"growth_{name}{env.schema_suffix}"
                   for name in ("ingest", "classifier", "suggester")}
        pools = {}
        try:
            for name, schema in schemas.items():
                pools[name] = await create_pool(env.database, schema)
                await migrate(pools[name], schema, f"gemroll_{name}")
            await event_uuid_function(pools["suggester"])
            keys = await upload_originals(env, SIZE)
            roll = Roll(env, pools, schemas, keys)
            out = []
            for round_no, size in enumerate(sizes):
                started = time.perf_counter()
                await roll.grow_to(size)
                print(f"roll of {size:,} media written in {time.perf_counter() - started:.1f} s",
                      flush=True)
                fig = Figures(size)
                await classifier_figures(roll, fig, repeats)
                await suggester_figures(roll, fig, repeats, round_no)
                await ingest_figures(roll, fig)
                out.append(fig)
                report_row(fig, out[0])
            return out
        finally:
            for name, pool in pools.items():
                await pool.execute(f"DROP SCHEMA IF EXISTS {schemas[name]} CASCADE")
                await pool.close()


def report_row(fig: Figures, base: Figures) -> None:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:5.2f}x" if b else "  -  "

    lookup = ratio(fig.duplicate_lookup_ms, base.duplicate_lookup_ms)
    print(f"  {fig.size:>7,} media: duplicate lookup {fig.duplicate_lookup_ms:6.1f} ms "
          f"({fig.window} shots in the window, {lookup})"
          f" | intake {fig.intake_ms:6.1f} ms ({ratio(fig.intake_ms, base.intake_ms)})"
          f" | planning {fig.planning_ms:6.1f} ms ({ratio(fig.planning_ms, base.planning_ms)})",
          flush=True)
    print(f"           GET /v1/media pages of {PAGE}: median {fig.media_page_ms:5.1f} ms, "
          f"deepest {fig.media_deep_page_ms:5.1f} ms "
          f"({ratio(fig.media_deep_page_ms, base.media_deep_page_ms)}), all {fig.size:,} in "
          f"{fig.media_paged_s:5.1f} s | GET /v1/suggestions: median "
          f"{fig.suggestions_page_ms:5.1f} ms, deepest {fig.suggestions_deep_page_ms:5.1f} ms "
          f"({ratio(fig.suggestions_deep_page_ms, base.suggestions_deep_page_ms)}), all in "
          f"{fig.suggestions_paged_s:5.1f} s", flush=True)
    for note in fig.notes:
        print(f"           ! {note}", flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    figures = asyncio.run(run(sorted(args.sizes), args.repeats))
    base, top = figures[0], figures[-1]
    print()
    print(f"per new photo at {top.size:,} media vs {base.size:,} (medians of {args.repeats}):")
    for name, attr in (("duplicate lookup", "duplicate_lookup_ms"), ("intake", "intake_ms"),
                       ("event planning", "planning_ms"),
                       ("media page (deepest)", "media_deep_page_ms"),
                       ("suggestions page (deepest)", "suggestions_deep_page_ms")):
        a, b = getattr(top, attr), getattr(base, attr)
        print(f"  {name:<27} {b:7.1f} ms -> {a:7.1f} ms   ratio {a / b:5.2f}")


if __name__ == "__main__":
    cli()
