"""The fault scenario: users upload a camera roll and act on their suggestions while services
are SIGKILLed and restarted in turn, the broker restarts, PostgreSQL and S3 go away for a
while. Afterwards the pipeline is drained and audited (see `audit`).

Also used by the soak run (without faults, or with them repeated) for latency, lag and RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from gemroll_contracts import (
    MEDIA_CLASSIFIED,
    SUBSCRIPTIONS,
    SUGGESTIONS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    Topic,
)
from gemroll_policy.domain import Pseudonymizer

from ..photos import shot
from ..topics import end_offsets, group_lags, read_records
from ..waiting import eventually
from .audit import Audit, Expectations, Snapshot, audit_pipeline, snapshot
from .driver import Driver, User
from .private_stack import PrivateStack
from .services import Pipeline

SERVICE_FAULTS = ("kill:ingest", "kill:classifier", "kill:suggester", "kill:policy")
INFRA_FAULTS = ("restart:kafka", "outage:postgres", "outage:s3")
ALL_FAULTS = SERVICE_FAULTS + INFRA_FAULTS

# What each share/edit/save the actor does means for training (see the policy's rules).
ACTION_FOR_KIND = {"highlight": "share", "collage": "save"}


@dataclass(frozen=True)
class ScenarioConfig:
    photos: int = 200
    users: int = 8
    per_day: int = 5
    rate: float = 2.5
    """Uploads started per second (all users together)."""
    concurrency: int = 4
    faults: tuple[str, ...] = ALL_FAULTS
    first_fault_s: float = 4.0
    fault_gap_s: float = 5.0
    outage_s: float = 10.0
    opt_out_users: int = 1
    """The first users opt out of training: none of their media may be admitted."""
    act: bool = True
    """Share highlights, apply edits, save collages while the uploads go on."""
    drain_timeout_s: float = 420.0
    seed: int = 0
    sample_every_s: float = 2.0


@dataclass
class FaultRecord:
    kind: str
    at_s: float
    took_s: float
    error: str | None = None


@dataclass
class Sample:
    t: float
    rss: dict[str, int | None]
    lag: dict[str, int | None]
    accepted: int


@dataclass
class ScenarioResult:
    audit: Audit
    snapshot: Snapshot
    expectations: Expectations
    faults: list[FaultRecord]
    samples: list[Sample]
    users: list[User]
    driver: Driver
    crashes: dict[str, int]
    upload_seconds: float
    drain_seconds: float
    latencies_s: list[float] = field(default_factory=list)
    """Upload answered -> first suggestion containing the photo, per photo that got one."""
    actions: dict[str, int] = field(default_factory=dict)


def consumer_groups(pipeline: Pipeline) -> dict[str, list[Topic]]:
    """Each service's consumer groups (the registry's names plus the run's suffix) and their
    topics."""
    groups: dict[str, list[Topic]] = {}
    for sub in SUBSCRIPTIONS:
        groups.setdefault(sub.group + pipeline.config.suffix, []).append(sub.topic)
    return groups


async def lags(pipeline: Pipeline) -> dict[str, int | None]:
    """Consumer lag of every group of the pipeline, named without the run's suffix."""
    cfg = pipeline.config
    groups = {g: [cfg.topic(t) for t in topics]
              for g, topics in consumer_groups(pipeline).items()}
    found = await group_lags(cfg.endpoints.kafka_bootstrap, groups)
    return {g.replace(cfg.suffix, ""): lag for g, lag in found.items()}


class Scenario:
    def __init__(self, pipeline: Pipeline, stack: PrivateStack | None, cfg: ScenarioConfig,
                 client: httpx.AsyncClient) -> None:
        if stack is None and any(not f.startswith("kill:") for f in cfg.faults):
            raise ValueError("infrastructure faults need a private stack")
        self.pipeline, self.stack, self.cfg = pipeline, stack, cfg
        self.driver = Driver(pipeline, client)
        self.users = [self.driver.new_user() for _ in range(cfg.users)]
        self.faults: list[FaultRecord] = []
        self.samples: list[Sample] = []
        self.acted: dict[str, str | None] = {}
        self.t0 = time.monotonic()
        self.uploads_done = asyncio.Event()
        self.settle_state = ""
        self.drain_trace: list[tuple[float, str]] = []
        """(seconds into the drain, what was still pending) whenever it changed."""

    # -- the parts that run side by side ------------------------------------------------------
    async def _upload_all(self) -> None:
        cfg = self.cfg
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(cfg.photos):
            queue.put_nowait(i)
        interval = 1.0 / cfg.rate
        start = time.monotonic()

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await asyncio.sleep(max(0.0, start + i * interval - time.monotonic()))
                user_no, index = i % cfg.users, i // cfg.users
                photo = shot(index, seed=cfg.seed * 1000 + user_no, per_day=cfg.per_day)
                await self.driver.upload(self.users[user_no], photo)

        await asyncio.gather(*(worker() for _ in range(cfg.concurrency)))

    async def _apply_faults(self) -> None:
        await asyncio.sleep(self.cfg.first_fault_s)
        for kind in self.cfg.faults:
            began = time.monotonic()
            record = FaultRecord(kind, began - self.t0, 0.0)
            try:
                verb, _, target = kind.partition(":")
                if verb == "kill":
                    await self.pipeline.kill_and_restart(target, wait_ready=False)
                elif verb == "restart":
                    assert self.stack is not None
                    await self.stack.stop(target)
                    await self.stack.start(target)
                elif verb == "outage":
                    assert self.stack is not None
                    await self.stack.outage(target, self.cfg.outage_s)
                else:
                    raise ValueError(f"unknown fault {kind!r}")
            except Exception as exc:  # noqa: BLE001 - recorded; the audit decides
                record.error = f"{type(exc).__name__}: {exc}"[:500]
            record.took_s = time.monotonic() - began
            self.faults.append(record)
            await asyncio.sleep(self.cfg.fault_gap_s)

    async def _act_once(self) -> int:
        """One round of the users' reactions to new suggestions; returns how many acted."""
        acted = 0
        for n, user in enumerate(self.users):
            try:
                items = await self.driver.suggestions(user)
            except TimeoutError:
                continue
            for item in items:
                if item["id"] in self.acted or item["status"] == "withdrawn":
                    continue
                action = ACTION_FOR_KIND.get(item["kind"]) or ("edit" if n % 2 == 0 else "save")
                result = await self.driver.act(user, item["id"], action)
                self.acted[item["id"]] = action if result is not None else None
                acted += 1
        return acted

    async def _actor(self) -> None:
        while not self.uploads_done.is_set():
            await self._act_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.uploads_done.wait(), 3.0)

    async def _sampler(self) -> None:
        while True:
            accepted = sum(1 for u in self.driver.uploads if u.media_id)
            self.samples.append(Sample(time.monotonic() - self.t0, self.pipeline.rss(),
                                       await lags(self.pipeline), accepted))
            await asyncio.sleep(self.cfg.sample_every_s)

    # -- draining and auditing ----------------------------------------------------------------
    async def _accepted(self) -> dict[str, str]:
        accepted: dict[str, str] = {}
        for user in self.users:
            for item in await self.driver.list_media(user):
                accepted[item["media_id"]] = user.key
        return accepted

    async def _stable(self, topics: list[Topic], quiet_s: float) -> bool:
        """No new record on `topics` for `quiet_s` seconds."""
        cfg = self.pipeline.config

        async def ends() -> list[dict[int, int]]:
            return [await end_offsets(cfg.endpoints.kafka_bootstrap, cfg.topic(t))
                    for t in topics]

        before = await ends()
        await asyncio.sleep(quiet_s)
        return before == await ends()

    async def _drain(self, accepted: dict[str, str]) -> None:
        cfg = self.pipeline.config
        timeout = self.cfg.drain_timeout_s

        async def all_classified() -> bool:
            records = await read_records(cfg.endpoints.kafka_bootstrap,
                                   cfg.topic(MEDIA_CLASSIFIED))
            return set(accepted) <= {media_id_of(r.value) for r in records}

        began = time.monotonic()
        await eventually(all_classified, timeout_s=timeout, what="every upload classified",
                         every_s=2.0)
        self.drain_trace.append((round(time.monotonic() - began, 1), "all classified"))

        async def settled() -> bool:
            if self.cfg.act:
                await self._act_once()
            lag = await lags(self.pipeline)
            backlog = await self._suggester_backlog()
            self.settle_state = f"lags {lag}; suggester backlog {backlog}"
            if not self.drain_trace or self.drain_trace[-1][1] != self.settle_state:
                self.drain_trace.append((round(time.monotonic() - began, 1), self.settle_state))
            if any(v is None or v > 0 for v in lag.values()) or backlog != (0, 0):
                return False
            quiet = self.pipeline.config.quiet_seconds + 4.0
            return await self._stable([SUGGESTIONS, USER_ACTIONS, TRAINING_MEDIA,
                                       TRAINING_DECISIONS, TRAINING_CANDIDATES], quiet)

        try:
            await eventually(settled, timeout_s=timeout, what="the pipeline to settle",
                             every_s=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last: {self.settle_state}") from None

    async def _suggester_backlog(self) -> tuple[int, int] | None:
        """(events still to plan, outbox rows not yet published) of the suggester: its planner
        works in rounds, so a quiet topic alone does not mean it is done."""
        cfg = self.pipeline.config
        schema = cfg.schema("suggester")
        try:
            conn = await asyncpg.connect(cfg.endpoints.database_url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            return None
        try:
            dirty = await conn.fetchval(f"SELECT count(*) FROM {schema}.events WHERE dirty")
            pending = await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox")
            return int(dirty), int(pending)
        finally:
            await conn.close()

    def _training_id(self, candidate_id: str) -> str:
        """A candidate id as the training topics carry it (the policy's opaque id)."""
        return str(Pseudonymizer(self.pipeline.config.secrets.pseudonym)
                   .training_id(UUID(candidate_id)))

    async def _classifier_rows(self, media_ids: list[str]) -> int | None:
        cfg = self.pipeline.config
        conn = await asyncpg.connect(cfg.endpoints.database_url)
        try:
            return int(await conn.fetchval(
                f"SELECT count(*) FROM {cfg.schema('classifier')}.media_results "
                "WHERE media_id = ANY($1::uuid[])", media_ids))
        finally:
            await conn.close()

    async def run(self) -> ScenarioResult:
        cfg = self.cfg
        for n, user in enumerate(self.users):
            await self.driver.opt_in(user, training_opt_out=n < cfg.opt_out_users)
        supervisor = asyncio.create_task(self.pipeline.supervise())
        sampler = asyncio.create_task(self._sampler())
        actor = asyncio.create_task(self._actor()) if cfg.act else None
        try:
            self.t0 = time.monotonic()
            faults = asyncio.create_task(self._apply_faults())
            await self._upload_all()
            upload_s = time.monotonic() - self.t0
            await faults
            self.uploads_done.set()
            if actor is not None:
                await actor
            await self.pipeline.wait_all_ready(supervised=True)
            drain_began = time.monotonic()
            accepted = await self._accepted()
            await self._drain(accepted)
            drain_s = time.monotonic() - drain_began
        finally:
            for task in (supervisor, sampler, actor):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
        return await self._audit(accepted, upload_s, drain_s)

    async def _audit(self, accepted: dict[str, str], upload_s: float,
                     drain_s: float) -> ScenarioResult:
        cfg = self.cfg
        day_of: dict[str, tuple[str, int]] = {}
        for record in self.driver.uploads:
            if record.media_id:
                day_of[record.media_id] = (record.user.key, record.index // cfg.per_day)
        api: dict[str, dict[str, Any]] = {}
        for user in self.users:
            api.update({s["id"]: s for s in await self.driver.suggestions(user)})
        exp = Expectations(
            accepted=accepted, day_of=day_of,
            training_opt_out={u.key for u in self.users[:cfg.opt_out_users]},
            api_suggestions=api,
            classifier_rows=await self._classifier_rows(list(accepted)),
            training_id=self._training_id)
        snap = (await snapshot(self.pipeline.config)).only({u.key for u in self.users},
                                                           self._training_id)
        audit = audit_pipeline(snap, exp)
        answered = {r.media_id for r in self.driver.uploads if r.media_id}
        refused = [f"photo {r.index} of {r.user.key[:8]}: {r.answers[-6:]}"
                   for r in self.driver.uploads if not r.media_id]
        audit.figures["upload_answers"] = dict(Counter(
            str(a) for r in self.driver.uploads for a in r.answers))
        audit.check("uploads: every valid photo accepted in the end (retries allowed)",
                    not refused, f"{len(refused)} never accepted: {'; '.join(refused[:5])}")
        audit.check("uploads: every answered media id is in the ingest's store",
                    answered <= set(accepted),
                    f"{len(answered - set(accepted))} answered but not listed")
        audit.check("uploads: no unexpected 5xx (only 502-504 while a dependency is down)",
                    not self.driver.unexpected, "; ".join(self.driver.unexpected[:5]))
        alive = self.pipeline.alive()
        audit.check("services: all running and ready at the end", all(alive.values()),
                    str(alive))
        audit.figures["service_crashes"] = self.pipeline.crashes()
        audit.figures["drain_trace"] = self.drain_trace[-40:]
        actions = {a: sum(1 for v in self.acted.values() if v == a)
                   for a in ("share", "edit", "save")}
        actions["refused"] = sum(1 for v in self.acted.values() if v is None)
        audit.figures["actions"] = actions
        return ScenarioResult(
            audit=audit, snapshot=snap, expectations=exp, faults=self.faults,
            samples=self.samples, users=self.users, driver=self.driver,
            crashes=self.pipeline.crashes(), upload_seconds=upload_s, drain_seconds=drain_s,
            latencies_s=latencies(self.driver, snap), actions=actions)


def latencies(driver: Driver, snap: Snapshot) -> list[float]:
    """Seconds from each upload's answer to the first suggestion record that contains it."""
    first: dict[str, float] = {}
    for record, event in zip(snap.records[SUGGESTIONS.name], snap.events[SUGGESTIONS.name],
                             strict=True):
        if event is None:
            continue
        for media_id in event.data.media_ids:
            t = record.timestamp_ms / 1000
            key = str(media_id)
            if key not in first or t < first[key]:
                first[key] = t
    return sorted(first[r.media_id] - r.answered for r in driver.uploads
                  if r.media_id and r.media_id in first)


async def run_scenario(pipeline: Pipeline, stack: PrivateStack | None, cfg: ScenarioConfig,
                       ) -> ScenarioResult:
    async with httpx.AsyncClient(timeout=60.0) as client:
        return await Scenario(pipeline, stack, cfg, client).run()


def media_id_of(value: bytes) -> str | None:
    try:
        return str(json.loads(value)["data"]["media_id"])
    except (ValueError, KeyError, TypeError, RecursionError):  # hostile records too
        return None
