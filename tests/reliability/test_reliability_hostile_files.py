"""The hostile corpus (at least 200 bad files) against the upload API, directly and through
presigned uploads: only clear 4xx or an accepted image, never a 5xx; the ingest stays up,
small and ready; every accepted oddity is classified, none stalls the pipeline."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
from gemroll_contracts import MEDIA_CLASSIFIED
from gemroll_testkit import eventually
from gemroll_testkit.hostile import HostileFile, corpus
from gemroll_testkit.photos import shot
from gemroll_testkit.reliability.scenario import media_id_of
from gemroll_testkit.topics import read_records

from .conftest import opted_in, report_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_INGEST_RSS = 1024 * 1024 * 1024


@pytest.fixture(scope="module")
def files() -> list[HostileFile]:
    return corpus()


def test_the_corpus_is_large_and_varied(files) -> None:
    assert len(files) >= 200
    categories = Counter(f.category for f in files)
    for needed in ("truncated", "pixel-flood", "decompression-bomb", "polyglot", "exif",
                   "empty", "wrong-type", "giant", "random"):
        assert categories[needed] > 0, needed
    assert len({f.name for f in files}) == len(files)


def error_code(response: httpx.Response) -> str | None:
    try:
        detail = response.json()["detail"]
        return detail["code"] if isinstance(detail["code"], str) and detail["message"] else None
    except (ValueError, KeyError, TypeError):
        return None


async def test_every_hostile_file_gets_a_clear_answer(pipeline, driver, client, files) -> None:
    user = await opted_in(driver)
    ingest = pipeline.procs["ingest"]
    starts = ingest.starts
    await driver.upload(user, shot(0, seed=4242))  # consent projected: 403s are over
    url = f"{pipeline.url('ingest')}/v1/media"
    answers: dict[str, tuple[int, str | None]] = {}
    peak_rss = 0
    for f in files:
        response = await client.post(url, headers=user.headers,
                                     files={"file": (f.upload_name, f.data, f.content_type)})
        answers[f.name] = (response.status_code, error_code(response))
        peak_rss = max(peak_rss, ingest.rss_bytes() or 0)
    (report_dir() / "hostile_files.json").write_text(json.dumps(
        {name: {"status": s, "code": c} for name, (s, c) in answers.items()}, indent=1))

    problems = {
        "5xx": {n: a for n, a in answers.items() if a[0] >= 500},
        "accepted but must be refused": {f.name: answers[f.name] for f in files
                                         if f.expect == "reject" and answers[f.name][0] < 400},
        "refused without a JSON error code": {n: a for n, a in answers.items()
                                              if a[0] >= 400 and a[1] is None},
        "ingest restarted or died": ingest.starts != starts or ingest.pid is None,
        "ingest not healthy": not await ingest.healthy(),
        "ingest not ready": (await client.get(f"{pipeline.url('ingest')}/readyz")).status_code
        != 200,
        "ingest RSS over 1 GiB": peak_rss >= MAX_INGEST_RSS,
    }

    # The pipeline goes on: the accepted oddities and a normal photo are all classified.
    accepted = [r for r in (await driver.list_media(user))]
    normal = await driver.upload(user, shot(1, seed=4242))
    wanted = {item["media_id"] for item in accepted} | {normal.media_id}
    topic = pipeline.config.topic(MEDIA_CLASSIFIED)

    async def all_classified() -> bool:
        records = await read_records(pipeline.config.endpoints.kafka_bootstrap, topic)
        return wanted <= {media_id_of(r.value) for r in records}  # hostile records: None

    await eventually(all_classified, f"{len(wanted)} accepted files classified", timeout_s=180)
    assert {k: v for k, v in problems.items() if v} == {}, f"peak ingest RSS {peak_rss >> 20} MiB"


async def test_presigned_uploads_of_hostile_files_are_refused_on_complete(
        pipeline, driver, client, files) -> None:
    """The two-step upload validates what landed in storage just like the direct one."""
    user = await opted_in(driver)
    await driver.upload(user, shot(0, seed=4343))
    base = pipeline.url("ingest")
    chosen = [f for f in files if f.expect == "reject" and f.category in (
        "truncated", "pixel-flood", "decompression-bomb", "empty", "polyglot", "random")][::3]
    assert len(chosen) >= 20
    answers = {}
    for f in chosen:
        created = await client.post(f"{base}/v1/uploads", headers=user.headers, json={})
        assert created.status_code == 201, created.text
        body = created.json()
        put = await client.put(body["url"], content=f.data)
        assert put.status_code == 200, put.text
        done = await client.post(f"{base}/v1/uploads/{body['upload_id']}/complete",
                                 headers=user.headers)
        answers[f.name] = (done.status_code, error_code(done))
    assert {n: a for n, a in answers.items() if not 400 <= a[0] < 500 or a[1] is None} == {}
    assert await pipeline.procs["ingest"].healthy()
