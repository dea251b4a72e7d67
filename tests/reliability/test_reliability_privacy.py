"""Privacy in the pipes: no raw account id, exact GPS, token or secret in any service log or on
any topic; training topics carry pseudonyms only (not even the user key).

Runs last in the module order on purpose: the scan covers the logs and topics of the whole
session (faults, hostile input, fuzzing, isolation) as well as its own GPS-tagged photo.
"""

from __future__ import annotations

import json
import re
from uuid import UUID

import asyncpg
import pytest
from gemroll_contracts import (
    ALL_TOPICS,
    TRAINING_CANDIDATES,
    TRAINING_DECISIONS,
    TRAINING_MEDIA,
    USER_ACTIONS,
    Visibility,
)
from gemroll_policy.domain import Pseudonymizer
from gemroll_testkit import eventually
from gemroll_testkit.photos import shot
from gemroll_testkit.topics import read_records

from .conftest import log_text, opted_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GPS = (-33.856784, 151.215297)
"""Precise enough that its 4-decimal forms appear nowhere by chance."""
GPS_TEXT = ("33.8567", "151.2152", "33,8567", "151,2152")


@pytest.fixture(scope="module")
async def gps_flow(pipeline, driver):
    """A user uploads photos, one with precise EXIF GPS, and shares and AI-edits them, so
    their media reaches every topic, the training ones included."""
    user = await opted_in(driver)
    media = []
    for i in range(4):
        photo = shot(i, seed=2024, gps=GPS if i == 0 else None)
        record = await driver.upload(user, photo, metadata='{"device": "Pixel 8", '
                                     '"album": "Harbour"}')
        assert record.media_id
        media.append(record.media_id)
    suggestions = await eventually(lambda: driver.suggestions(user), "suggestions",
                                   timeout_s=150)
    for s in suggestions:
        action = {"highlight": "share", "edit": "edit"}.get(s["kind"])
        if action:
            await driver.act(user, s["id"], action)
    topic = pipeline.config.topic(TRAINING_MEDIA)

    pseudonyms = Pseudonymizer(pipeline.config.secrets.pseudonym)
    opaque = [str(pseudonyms.opaque("media", UUID(m))) for m in media]

    async def admitted() -> bool:  # training records name media by opaque ids only
        values = await read_records(pipeline.config.endpoints.kafka_bootstrap, topic)
        return any(m.encode() in r.value for r in values for m in opaque)

    await eventually(admitted, "the user's media admitted for training", timeout_s=120)
    return user, media


async def test_exact_gps_is_kept_in_the_ingest_private_column(pipeline, gps_flow) -> None:
    _, media = gps_flow
    cfg = pipeline.config
    conn = await asyncpg.connect(cfg.endpoints.database_url)
    try:
        row = await conn.fetchrow(f"SELECT gps_latitude, gps_longitude FROM "
                                  f"{cfg.schema('ingest')}.media WHERE media_id = $1::uuid",
                                  media[0])
    finally:
        await conn.close()
    assert row is not None
    assert row["gps_latitude"] == pytest.approx(GPS[0], abs=1e-5)
    assert row["gps_longitude"] == pytest.approx(GPS[1], abs=1e-5)


def forbidden(pipeline, accounts: set[str], tokens: set[str]) -> dict[str, str]:
    """What must never appear outside the private stores: label -> string."""
    cfg = pipeline.config
    e = cfg.endpoints
    password = re.search(r"://[^:]+:([^@]+)@", e.database_url)
    assert password
    secrets = {"jwt secret": cfg.secrets.jwt, "user key secret": cfg.secrets.user_key,
               "pseudonym secret": cfg.secrets.pseudonym, "S3 secret key": e.s3_secret_key,
               "database password": password.group(1)}
    found = {**secrets, **{f"exact GPS {g}": g for g in GPS_TEXT}}
    found.update({f"account {a}": a for a in accounts})
    found.update({f"token …{t[-12:]}": t for t in tokens})
    found.update({f"token signature …{t[-12:]}": t.rsplit(".", 1)[-1] for t in tokens})
    return found


async def test_logs_hold_no_account_id_gps_token_or_secret(pipeline, gps_flow, accounts,
                                                            tokens) -> None:
    logs = log_text(pipeline)
    assert sum(len(t) for t in logs.values()) > 10_000, "the services did log"
    leaks = {(service, label) for service, text in logs.items()
             for label, value in forbidden(pipeline, accounts, tokens).items() if value in text}
    assert leaks == set()


async def test_no_topic_holds_an_account_id_gps_token_or_secret(pipeline, gps_flow, accounts,
                                                                 tokens) -> None:
    cfg = pipeline.config
    bad = forbidden(pipeline, accounts, tokens)
    leaks, scanned = set(), 0
    for topic in ALL_TOPICS:
        for r in await read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(topic),
                                    read_committed=False):
            scanned += 1
            blob = (r.key or b"") + b"\n" + r.value
            leaks |= {(topic.name, label) for label, value in bad.items()
                      if value.encode() in blob}
    assert scanned >= 10
    assert leaks == set()


async def test_training_topics_carry_pseudonyms_only(pipeline, gps_flow, accounts) -> None:
    """Neither the record key nor the value of a training event holds a user key, nor an id
    that another topic links to a user (media ids, candidate ids, action event ids)."""
    cfg = pipeline.config
    user_keys = {cfg.user_key(a) for a in accounts}
    _, media = gps_flow
    linkable = set(media)
    for other in (TRAINING_CANDIDATES, USER_ACTIONS):
        for r in await read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(other),
                                    read_committed=False):
            try:
                event = json.loads(r.value)
            except (ValueError, RecursionError):
                continue  # the hostile-events module's poison records (deeply nested too)
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                continue
            if event["data"].get("media_id") in linkable:
                linkable |= {event["event_id"], event["data"].get("candidate_id") or ""}
    linkable.discard("")
    assert len(linkable) > len(media)
    user_keys |= linkable
    training = [t for t in ALL_TOPICS if t.visibility is Visibility.training]
    assert {t.name for t in training} == {TRAINING_MEDIA.name, TRAINING_DECISIONS.name}
    leaks: dict[str, set[str]] = {}
    count = 0
    for topic in training:
        for r in await read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(topic),
                                    read_committed=False):
            count += 1
            blob = (r.key or b"") + b"\n" + r.value
            for key in user_keys:
                if key.encode() in blob:
                    where = "key" if key.encode() in (r.key or b"") else _field_of(r.value, key)
                    leaks.setdefault(f"{topic.name}: {where}", set()).add(key[:8])
    assert count > 0
    assert {k: len(v) for k, v in leaks.items()} == {}


def _field_of(value: bytes, needle: str) -> str:
    import json

    def walk(node: object, path: str) -> str | None:
        if isinstance(node, dict):
            for k, v in node.items():
                if (found := walk(v, f"{path}.{k}" if path else k)) is not None:
                    return found
        elif isinstance(node, list):
            for v in node:
                if (found := walk(v, path)) is not None:
                    return found
        elif isinstance(node, str) and needle in node:
            return path
        return None

    try:
        return walk(json.loads(value), "") or "value"
    except ValueError:
        return "value"


async def test_the_gps_photo_carries_only_a_coarse_location(pipeline, gps_flow) -> None:
    """Events say where at geohash precision (≤ 5 characters), never more."""
    _, media = gps_flow
    cfg = pipeline.config
    from gemroll_contracts import MEDIA_UPLOADED, MediaUploaded

    records = await read_records(cfg.endpoints.kafka_bootstrap, cfg.topic(MEDIA_UPLOADED))
    [event] = [MediaUploaded.from_json(r.value) for r in records if media[0].encode() in r.value]
    assert event.data.coarse_location and len(event.data.coarse_location) <= 5
