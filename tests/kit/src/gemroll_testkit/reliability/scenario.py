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
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from gemroll_contracts import (
    DEAD_LETTERS,
    MEDIA_CLASSIFIED,
    SUBSCRIPTIONS,
    SUGGESTIONS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    DeadLetter,
    Topic,
)
from gemroll_policy.domain import Pseudonymizer

from ..hostile.events import Media, bad_records
from ..photos import shot
from ..topics import end_offsets, group_lags, read_records
from ..waiting import eventually
from .accounting import Ledger, account_uploads
from .audit import Audit, Expectations, Snapshot, audit_pipeline, snapshot
from .driver import Driver, User
from .private_stack import PrivateStack
from .services import Pipeline

SERVICE_FAULTS = ("kill:ingest", "kill:classifier", "kill:suggester", "kill:policy")
INFRA_FAULTS = ("restart:kafka", "outage:postgres", "outage:s3")
ALL_FAULTS = SERVICE_FAULTS + INFRA_FAULTS
"""Other verbs: `outage:<part>:<seconds>` (a clean stop for that long), `crash:<part>[:<seconds>]`
(SIGKILL of its process group, down that long), `cut:postgres` (every service connection
terminated, `cut_bursts` times), `poison:consumed` (a malformed record into every consumed
topic, see `POISON_KINDS`), `roll:<service>:<build>` (a graceful restart as one of
`Pipeline.builds`; `tree` is the tree's own)."""

POISON_KINDS = ("not_json", "wrong_type_in_data")
"""The malformed records `poison:consumed` sends to each topic: bytes that are not JSON, and
an event of the topic's own type with a field of the wrong type (see gemroll_testkit.hostile)."""

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
    cut_bursts: int = 5
    cut_gap_s: float = 1.0
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
    wall_start: float = 0.0
    wall_end: float = 0.0
    """time.time() when the fault began and ended (to compare with upload answers)."""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Poison:
    """A malformed record sent to a consumed topic, and who must dead-letter it."""

    kind: str
    topic: str
    """The topic's name with the run's suffix (as dead letters name it)."""
    partition: int
    offset: int
    consumers: tuple[str, ...]


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
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per stage (`STAGES`), (upload answered, seconds to the stage) per photo that reached
    it, in upload order; the first in seconds since the first upload was answered."""
    actions: dict[str, int] = field(default_factory=dict)
    poisons: list[Poison] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    """Every upload's end state (see `accounting`)."""


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
        if stack is None and any(not f.startswith(("kill:", "roll:", "poison:"))
                                 for f in cfg.faults):
            raise ValueError("infrastructure faults need a private stack")
        self.pipeline, self.stack, self.cfg = pipeline, stack, cfg
        self.driver = Driver(pipeline, client)
        self.users = [self.driver.new_user() for _ in range(cfg.users)]
        self.faults: list[FaultRecord] = []
        self.poisons: list[Poison] = []
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
            record = FaultRecord(kind, began - self.t0, 0.0, wall_start=time.time())
            try:
                await self._apply_fault(kind, record)
            except Exception as exc:  # noqa: BLE001 - recorded; the audit decides
                record.error = f"{type(exc).__name__}: {exc}"[:500]
            record.took_s = time.monotonic() - began
            record.wall_end = time.time()
            self.faults.append(record)
            await asyncio.sleep(self.cfg.fault_gap_s)

    async def _apply_fault(self, kind: str, record: FaultRecord) -> None:
        verb, target, *args = kind.split(":")
        if verb == "kill":
            await self.pipeline.kill_and_restart(target, wait_ready=False)
            return
        if verb == "roll":
            build = None if args == ["tree"] else args[0]
            record.detail["ready_after_s"] = round(await self.pipeline.roll(target, build), 1)
            return
        if verb == "poison":
            self.poisons += await self._poison_consumed()
            return
        stack = self.stack
        assert stack is not None
        if verb == "restart":
            await stack.stop(target)
            await stack.start(target)
        elif verb in ("outage", "crash"):
            seconds = float(args[0]) if args else (self.cfg.outage_s if verb == "outage"
                                                   else 0.0)
            backlog = asyncio.create_task(self._outbox_peak())
            try:
                if verb == "outage":
                    await stack.outage(target, seconds)
                else:
                    await stack.crash(target, seconds)
            finally:
                backlog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    record.detail["outbox_peak"] = await backlog
        elif verb == "cut" and target == "postgres":
            cut = await stack.cut_connections(bursts=self.cfg.cut_bursts,
                                              gap_s=self.cfg.cut_gap_s)
            record.detail["connections_cut"] = dict(cut)
        else:
            raise ValueError(f"unknown fault {kind!r}")

    async def _outbox_peak(self, every_s: float = 1.0) -> dict[str, int]:
        """The most rows each service's outbox held while a fault lasted (polled until
        cancelled; PostgreSQL being the part that is down reads as nothing)."""
        cfg = self.pipeline.config
        peak: dict[str, int] = {}
        try:
            while True:
                with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
                    conn = await asyncpg.connect(cfg.endpoints.database_url, timeout=3)
                    try:
                        for service in cfg.services:
                            with contextlib.suppress(asyncpg.UndefinedTableError):
                                n = int(await conn.fetchval(
                                    f"SELECT count(*) FROM {cfg.schema(service)}.outbox"))
                                peak[service] = max(peak.get(service, 0), n)
                    finally:
                        await conn.close()
                await asyncio.sleep(every_s)
        except asyncio.CancelledError:
            return peak

    async def _poison_consumed(self) -> list[Poison]:
        """`POISON_KINDS` into every topic a service consumes, keyed by a user of the run
        (so they sit in that user's partition, among valid events); a compacted topic gets a
        key of its own (a poison must not become a user's latest state)."""
        cfg = self.pipeline.config
        consumers: dict[Topic, list[str]] = {}
        for sub in SUBSCRIPTIONS:
            consumers.setdefault(sub.topic, []).append(sub.service.value)
        user = self.users[-1]
        sent: list[Poison] = []
        producer = AIOKafkaProducer(bootstrap_servers=cfg.endpoints.kafka_bootstrap,
                                    acks="all")
        await producer.start()
        try:
            for topic, services in consumers.items():
                key = user.key if topic.cleanup_policy == "delete" else uuid4().hex
                media_id = uuid4()
                media = Media(key, media_id, cfg.s3.bucket, f"users/{key}/media/{media_id}")
                for bad in bad_records(topic, media):
                    if bad.name not in POISON_KINDS or bad.value is None:
                        continue
                    meta = await producer.send_and_wait(cfg.topic(topic), bad.value,
                                                        key=key.encode())
                    sent.append(Poison(bad.name, meta.topic, meta.partition, meta.offset,
                                       tuple(services)))
        finally:
            await producer.stop()
        return sent

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
            try:
                lag = await lags(self.pipeline)
            except Exception:  # noqa: BLE001 - the broker is down: a sample without lag
                lag = {}
            self.samples.append(Sample(time.monotonic() - self.t0, self.pipeline.rss(),
                                       lag, accepted))
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
        result = await self._audit(accepted, upload_s, drain_s)
        result.poisons = self.poisons
        return result

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
        audit.check("uploads: no unexpected answer (5xx only 502-504 while a dependency is down; "
                    "no 403 after an opt-in answered in effect)",
                    not self.driver.unexpected, "; ".join(self.driver.unexpected[:5]))
        ledger = account_uploads(self.driver.uploads, accepted, snap, all_valid=True,
                                 logs=self.pipeline.logs)
        audit.figures["upload_accounting"] = ledger.figures()
        audit.figures["upload_ends"] = ledger.states()
        audit.check("uploads: every upload accounted for (0 lost, 0 duplicated, 0 unexplained)",
                    not ledger.problems, ledger.report())
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
            latencies=latencies(self.driver, snap), actions=actions, ledger=ledger)


STAGES = {
    "classified": (MEDIA_CLASSIFIED.name, lambda data: [data.media_id]),
    "suggested": (SUGGESTIONS.name, lambda data: data.media_ids),
}
"""Where a photo is seen first, per stage: its MediaClassified, the first suggestion with it."""


def latencies(driver: Driver, snap: Snapshot) -> dict[str, list[tuple[float, float]]]:
    """Per stage, seconds from each upload's answer to the photo's first record there."""
    answered = sorted((r for r in driver.uploads if r.media_id), key=lambda r: r.answered)
    start = answered[0].answered if answered else 0.0
    out = {}
    for stage, (topic, media_ids) in STAGES.items():
        first: dict[str, float] = {}
        for record, event in zip(snap.records[topic], snap.events[topic], strict=True):
            if event is None:
                continue
            t = record.timestamp_ms / 1000
            for media_id in media_ids(event.data):
                key = str(media_id)
                if key not in first or t < first[key]:
                    first[key] = t
        out[stage] = [(r.answered - start, first[r.media_id] - r.answered)
                      for r in answered if r.media_id in first]
    return out


async def run_scenario(pipeline: Pipeline, stack: PrivateStack | None, cfg: ScenarioConfig,
                       ) -> ScenarioResult:
    async with httpx.AsyncClient(timeout=60.0) as client:
        return await Scenario(pipeline, stack, cfg, client).run()


def poison_not_dead_lettered(snap: Snapshot, poisons: list[Poison]) -> list[str]:
    """Each (service, poison) with no dead letter from that service naming the record and a
    reason."""
    lettered = {(d.producer, d.data.source_topic, d.data.source_partition, d.data.source_offset)
                for d in snap.of(DEAD_LETTERS.name, DeadLetter)
                if d.data.error and d.data.error_type}
    return [f"{service}: {p.kind} at {p.topic}/{p.partition}@{p.offset}"
            for p in poisons for service in p.consumers
            if (service, p.topic, p.partition, p.offset) not in lettered]


def unparsable_besides(snap: Snapshot, poisons: list[Poison], since: float) -> list[str]:
    """Records on the event topics, written from `since` (time.time()) on, that are not
    contract events, other than `poisons` (earlier tests' hostile records are left out)."""
    sent = {(p.topic, p.partition, p.offset) for p in poisons}
    return [f"{r.topic}/{r.partition}@{r.offset}"
            for name, records in snap.records.items() if name != DEAD_LETTERS.name
            for r, event in zip(records, snap.events[name], strict=True)
            if event is None and r.timestamp_ms >= since * 1000
            and (r.topic, r.partition, r.offset) not in sent]


def media_id_of(value: bytes) -> str | None:
    try:
        return str(json.loads(value)["data"]["media_id"])
    except (ValueError, KeyError, TypeError, RecursionError):  # hostile records too
        return None
