"""Two ingest instances on one schema and one bucket take uploads at the same time; one is
SIGKILLed with requests in flight. The clients retry what failed (the same bytes: the ingest
dedupes per user and content) against the survivor, and send some photos twice. Afterwards
each photo is stored once: one accepted row, its object in the bucket (nothing left of the
dead requests once the janitor ran) and one MediaUploaded event on the topic (the outbox is
at least once: a record may repeat, its event id never differs)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from gemroll_common.auth import issue_dev_token
from gemroll_common.identity import user_key
from gemroll_common.kafka import EventPublisher, make_broker
from gemroll_common.settings import AuthSettings
from gemroll_common.storage import ObjectStore
from gemroll_contracts import (
    CONSENT,
    MEDIA_UPLOADED,
    ConsentChanged,
    ConsentChangedData,
    MediaUploaded,
    Service,
    utcnow,
)
from gemroll_testkit import eventually, photos
from gemroll_testkit.processes import ServiceProcess, free_port, stop_all
from gemroll_testkit.topics import read_records
from pydantic import SecretStr

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
ACCOUNTS, PHOTOS_PER_ACCOUNT = 8, 12
WORKERS_PER_INSTANCE = 4
KILL_AFTER = 30  # uploads answered 2xx before a is killed
SIZE = (640, 480)  # ~280 kB: a request spends a while storing, where a kill hurts most
LEASE_S = 3  # a dead request's claim on its bytes runs out after this (the setting's minimum)
JWT_SECRET = f"jwt-{secrets.token_hex(16)}"
USER_KEY_SECRET = f"userkey-{secrets.token_hex(16)}"


def instance(env, schema: str, log: Path) -> ServiceProcess:
    return ServiceProcess("ingest", free_port(), {
        **env.as_env(),
        "GEMROLL_INGEST_DB_SCHEMA": schema,
        "GEMROLL_AUTH_HS256_SECRET": JWT_SECRET,
        "GEMROLL_USER_KEY_SECRET": USER_KEY_SECRET,
        "GEMROLL_INGEST_RESERVATION_LEASE_S": str(LEASE_S),
        "GEMROLL_INGEST_JANITOR_EVERY_S": "1",
        "GEMROLL_INGEST_RELAY_IDLE_S": "0.1",
        "GEMROLL_INGEST_RELAY_MAX_BACKOFF_S": "1",
        "GEMROLL_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }, log, cwd=ROOT, inherit_config=False)


@dataclass
class Photo:
    account: str
    data: bytes
    sha256: str
    answers: list[tuple[int, str]] = field(default_factory=list)
    """Every 2xx answer for these bytes: (status, media id)."""


@dataclass
class Clients:
    """The uploading clients' view: what each instance answered, what failed."""

    auth: AuthSettings
    http: httpx.AsyncClient
    answered: Counter = field(default_factory=Counter)
    """2xx answers per instance URL."""
    cut: Counter = field(default_factory=Counter)
    """Requests whose connection was lost before the answer, per URL."""
    refused: Counter = field(default_factory=Counter)
    """Requests that found nobody listening, per URL."""
    busy: Counter = field(default_factory=Counter)
    """503 answers (the same bytes being stored by a live or a dead request), per URL."""
    in_flight: Counter = field(default_factory=Counter)

    async def post(self, url: str, photo: Photo) -> bool:
        """One attempt: True when answered 2xx, False when it failed in a way a client
        retries (the connection lost or refused, 503)."""
        token = issue_dev_token(photo.account, self.auth)
        self.in_flight[url] += 1
        try:
            response = await self.http.post(
                f"{url}/v1/media", headers={"Authorization": f"Bearer {token}"},
                files={"file": ("photo.jpg", photo.data, "application/octet-stream")})
        except httpx.ConnectError:
            self.refused[url] += 1
            return False
        except httpx.TransportError:
            self.cut[url] += 1
            return False
        finally:
            self.in_flight[url] -= 1
        if response.status_code == 503:  # only while another request holds these bytes
            assert response.json()["detail"]["code"] == "upload_in_progress", response.text
            self.busy[url] += 1
            return False
        assert response.status_code in (200, 201), (url, response.status_code, response.text)
        self.answered[url] += 1
        body = response.json()
        assert body["sha256"] == photo.sha256
        assert body["status"] == ("accepted" if response.status_code == 201 else "duplicate")
        photo.answers.append((response.status_code, body["media_id"]))
        return True

    async def upload(self, url: str, photo: Photo, survivor: str) -> None:
        """Upload to `url`; a failed attempt is retried with the same bytes at `survivor`."""
        if not await self.post(url, photo):
            await eventually(lambda: self.post(survivor, photo),
                             f"the retried upload of {photo.sha256[:12]} to be answered",
                             timeout_s=90, every_s=0.3)


async def test_two_instances_share_uploads_and_a_kill_loses_and_duplicates_nothing(
        isolated_env, tmp_path):
    env = isolated_env
    schema = f"ingest{env.schema_suffix}"
    store = ObjectStore(env.s3)
    accounts = [f"acct-{uuid.uuid4().hex[:12]}" for _ in range(ACCOUNTS)]
    keys = {account: user_key(account, USER_KEY_SECRET) for account in accounts}
    roll = []
    for _ in range(PHOTOS_PER_ACCOUNT):
        for account in accounts:
            data = photos.jpeg(size=SIZE)  # random pixels: distinct bytes
            roll.append(Photo(account, data, hashlib.sha256(data).hexdigest()))
    a, b = (instance(env, schema, tmp_path / f"ingest-{n}.log") for n in "ab")
    conn = await asyncpg.connect(env.database.url.get_secret_value())
    try:
        a.start()
        await a.wait_ready(120)  # a migrates the schema first; b joins the same groups
        b.start()
        await b.wait_ready(120)

        broker = make_broker(env.kafka, Service.policy)
        async with broker:  # the accounts opt in, as the policy service announces it
            await broker.connect()
            policy = EventPublisher(broker, env.kafka, Service.policy)
            for key in keys.values():
                await policy.publish(CONSENT, ConsentChanged(producer="policy", data=(
                    ConsentChangedData(user_key=key, camera_roll=True, training_opt_out=False,
                                       ledger_seq=1, changed_at=utcnow()))), key=key)

        async def opted_in() -> bool:
            return await conn.fetchval(
                f"SELECT count(*) FROM {schema}.consent WHERE camera_roll"
                " AND user_key = ANY($1::text[])", list(keys.values())) == len(keys)

        await eventually(opted_in, "the consents to be projected", timeout_s=60)

        # Every other photo goes to a, the rest to b; every third of a's is sent to both at
        # once (a client retrying on another connection while its first request still runs).
        queues = {a.url: [(p, i % 3 == 0) for i, p in enumerate(roll[0::2])],
                  b.url: [(p, False) for p in roll[1::2]]}
        async with httpx.AsyncClient(timeout=30) as http:
            clients = Clients(AuthSettings(hs256_secret=SecretStr(JWT_SECRET)), http)

            copies: list[asyncio.Task] = []

            async def worker(url: str) -> None:
                while queues[url]:
                    photo, twice = queues[url].pop(0)
                    if twice:  # the copy goes to b on its own: this worker keeps a busy
                        copies.append(asyncio.create_task(
                            clients.upload(b.url, photo, survivor=b.url)))
                    await clients.upload(url, photo, survivor=b.url)

            workers = [asyncio.create_task(worker(url)) for url in (a.url, b.url)
                       for _ in range(WORKERS_PER_INSTANCE)]
            try:
                async def mid_stream() -> bool:
                    """Both took uploads, a has requests in flight, and some uploads are
                    being stored right now (the kill point that leaves most behind: a
                    reservation, maybe an object)."""
                    for done in (t for t in workers + copies if t.done()):
                        done.result()  # a client that failed: say why
                    assert not all(w.done() for w in workers), "all uploaded before the kill"
                    return (sum(clients.answered.values()) >= KILL_AFTER
                            and min(clients.answered[a.url], clients.answered[b.url]) > 0
                            and clients.in_flight[a.url] >= 2
                            and await conn.fetchval(f"SELECT count(*) FROM {schema}.media"
                                                    " WHERE state = 'storing'") >= 2)

                await eventually(mid_stream, "both instances to take uploads", timeout_s=90,
                                 every_s=0.01)
                in_flight_at_kill = clients.in_flight[a.url]
                answered_before_kill = clients.answered[a.url]
                await asyncio.to_thread(a.kill)
                await asyncio.gather(*workers)
                await asyncio.gather(*copies)
            finally:
                for task in workers + copies:
                    task.cancel()

            # clients that never heard back send again; each answer must name the same media
            for photo in roll[::5]:
                await clients.upload(b.url, photo, survivor=b.url)

        async def settled() -> bool:
            """The outbox relayed and the janitor removed what the dead requests left."""
            return await conn.fetchval(
                f"SELECT (SELECT count(*) FROM {schema}.outbox)"
                f" + (SELECT count(*) FROM {schema}.media WHERE state <> 'accepted'"
                "      OR announced_at IS NULL)") == 0

        await eventually(settled, "the outbox and the janitor to finish", timeout_s=90,
                         every_s=0.5, diagnostics=lambda: f"b:\n{b.tail()}")
        rows = await conn.fetch(
            f"SELECT media_id, user_key, sha256, object_key FROM {schema}.media")

        async def no_orphans() -> dict[str, list[str]] | None:
            listed = {account: sorted(await store.list_keys(f"users/{key}/media/"))
                      for account, key in keys.items()}
            expected = {account: sorted(r["object_key"] for r in rows
                                        if r["user_key"] == keys[account])
                        for account in accounts}
            return listed if listed == expected else None

        listed = await eventually(no_orphans, "the bucket to hold exactly the accepted media",
                                  timeout_s=60, every_s=0.5)
        stored = {r["object_key"]: await store.get_bytes(r["object_key"]) for r in rows}
    finally:
        stop_all([a, b])
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
        for key in keys.values():
            await store.delete_prefix(f"users/{key}/")

    # the kill hit requests in flight; their clients retried at the survivor
    assert answered_before_kill > 0 and clients.answered[b.url] > 0
    assert in_flight_at_kill > 0 and clients.cut[a.url] > 0, (in_flight_at_kill, clients)

    # every photo was answered, always with the same media id, accepted (201) at most once
    media_of: dict[str, str] = {}
    for photo in roll:
        ids = {media_id for _, media_id in photo.answers}
        assert len(ids) == 1, photo.answers
        assert [s for s, _ in photo.answers].count(201) <= 1, photo.answers
        media_of[photo.sha256] = ids.pop()
    assert len(set(media_of.values())) == len(roll)

    # PostgreSQL: one accepted row per photo, the one its answers named, nothing else
    assert len(rows) == len(roll)
    assert {(r["user_key"], r["sha256"]): str(r["media_id"]) for r in rows} == \
        {(keys[p.account], p.sha256): media_of[p.sha256] for p in roll}

    # S3: each photo's bytes under its object key (and, above, no other object)
    by_sha = {p.sha256: p.data for p in roll}
    assert {key: hashlib.sha256(data).hexdigest() for key, data in stored.items()} == \
        {r["object_key"]: r["sha256"] for r in rows}
    assert all(stored[r["object_key"]] == by_sha[r["sha256"]] for r in rows)
    assert sum(len(k) for k in listed.values()) == len(roll)

    # Kafka: one MediaUploaded event per accepted photo, for no other media
    records = await read_records(env.kafka.bootstrap_servers, env.topic(MEDIA_UPLOADED))
    events = [MediaUploaded.from_json(r.value) for r in records]
    event_ids: dict[str, set[uuid.UUID]] = defaultdict(set)
    values: dict[uuid.UUID, set[bytes]] = defaultdict(set)
    for record, event in zip(records, events, strict=True):
        event_ids[str(event.data.media_id)].add(event.event_id)
        values[event.event_id].add(record.value)
    assert set(event_ids) == set(media_of.values())
    assert {m: ids for m, ids in event_ids.items() if len(ids) != 1} == {}
    assert all(len(v) == 1 for v in values.values())  # a record repeated is the same record
    assert {str(e.data.media_id): e.data.sha256 for e in events} == \
        {media_id: sha for sha, media_id in media_of.items()}
