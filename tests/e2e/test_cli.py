"""The `gemroll` command line against running services: consent, a resumable upload that
skips duplicates, suggestions and actions, and tokens; and the developer's `gemroll-dev tail`
following the topics live."""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gemroll_cli.tokens import dev_token, user_key_of
from gemroll_common.auth import TokenVerifier
from gemroll_common.settings import AuthSettings, IdentitySettings
from PIL import Image

pytestmark = pytest.mark.integration

GEMROLL = [sys.executable, "-m", "gemroll_cli"]
GEMROLL_DEV = [sys.executable, "-m", "gemroll_dev.cli"]


def gemroll(services, *args: str, timeout: float = 60,
            command: list[str] = GEMROLL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *args], env={**services.client_env, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=timeout, check=False)


def gemroll_dev(services, *args: str) -> subprocess.CompletedProcess[str]:
    return gemroll(services, *args, command=GEMROLL_DEV)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def write_photo(path: Path, seed: int) -> Path:
    image = Image.new("RGB", (640, 480), ((seed * 70) % 255, 120, 200 - seed * 30))
    for x in range(0, 640, 40):
        image.paste((255, 255 - seed * 40, x % 255), (x, 0, x + 20, 480))
    image.save(path, "JPEG", quality=88)
    return path


def media_count(services, user: str) -> int:
    response = httpx.get(f"{services.url('ingest')}/v1/media", params={"limit": 100},
                         headers={"Authorization": f"Bearer {dev_token(user)}"})
    response.raise_for_status()
    return len(response.json()["items"])


def suggestions(services, user: str) -> list[dict]:
    response = httpx.get(f"{services.url('suggester')}/v1/suggestions", params={"limit": 100},
                         headers={"Authorization": f"Bearer {dev_token(user)}"})
    response.raise_for_status()
    return response.json()["items"]


def test_token_is_a_valid_bearer_token(services):
    token = ok(gemroll(services, "token", "alice")).strip()
    principal = TokenVerifier(AuthSettings(), IdentitySettings()).verify(token)
    assert principal.account_id == "alice"
    assert principal.user_key == user_key_of("alice")


def test_upload_needs_consent_resumes_and_skips_duplicates(services, tmp_path):
    user = f"cli-{uuid.uuid4().hex[:8]}"
    roll = tmp_path / "roll"
    (roll / "2024").mkdir(parents=True)
    first = write_photo(roll / "IMG_0001.JPG", 0)
    write_photo(roll / "2024" / "IMG_0002.JPG", 1)
    write_photo(roll / "IMG_0003.JPG", 2)
    shutil.copy(first, roll / "IMG_0001 copy.JPG")  # the same bytes under another name
    (roll / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (roll / "notes.txt").write_text("not a photo")

    refused = gemroll(services, "upload", str(roll), "--user", user)
    assert refused.returncode == 1
    assert "consent_required" in refused.stderr

    assert "camera_roll=True" in ok(gemroll(services, "consent", user, "on"))

    # The ingest learns of the consent from Kafka: retry until it has.
    deadline = time.monotonic() + 60
    while (result := gemroll(services, "upload", str(roll), "--user", user)).returncode != 0:
        assert "consent_required" in result.stderr, result.stderr
        assert time.monotonic() < deadline, "the ingest never saw the consent"
        time.sleep(0.5)
    assert ("3 uploaded, 1 duplicates skipped, 0 already done earlier, 1 rejected, 0 failed"
            in result.stdout), result.stdout
    assert "rejected broken.jpg" in result.stdout
    assert media_count(services, user) == 3

    # A second run sends nothing.
    again = ok(gemroll(services, "upload", str(roll), "--user", user))
    assert "0 uploaded, 0 duplicates skipped, 5 already done earlier" in again

    # Forget one file in the state (as if the run had been interrupted before recording it):
    # it is sent again and the service answers that it has it already.
    state_file = next(roll.glob(".gemroll-upload-*.json"))
    state = json.loads(state_file.read_text())
    del state["files"]["2024/IMG_0002.JPG"]
    state_file.write_text(json.dumps(state))
    write_photo(roll / "IMG_0004.JPG", 3)
    resumed = ok(gemroll(services, "upload", str(roll), "--user", user))
    assert "1 uploaded, 1 duplicates skipped, 4 already done earlier" in resumed
    assert media_count(services, user) == 4


def noisy_photo(path: Path, seed: int) -> Path:
    """A ~1 MB JPEG (noise does not compress): each upload takes a moment."""
    rng = random.Random(seed)
    Image.frombytes("RGB", (1200, 900), rng.randbytes(1200 * 900 * 3)).save(path, "JPEG",
                                                                             quality=85)
    return path


SUMMARY = re.compile(r"(\d+) uploaded, (\d+) duplicates skipped, (\d+) already done earlier, "
                     r"(\d+) rejected, (\d+) failed")


async def test_large_files_and_avif_upload_through_the_presigned_path(services, tmp_path):
    """Files above the client's threshold go straight to the object store in chunks (progress
    reported as they go), then ingest validates them: AVIF too."""
    from gemroll_cli.client import GemrollClient, ServiceUrls
    from gemroll_testkit import photos

    user = f"big-{uuid.uuid4().hex[:8]}"
    urls = ServiceUrls.first_of(services.client_env)
    big = noisy_photo(tmp_path / "big.jpg", 5)
    avif = tmp_path / "phone.avif"
    avif.write_bytes(photos.avif(size=(640, 480), exif=photos.exif(make="Apple", gps=(1.5, 2.5))))
    sent: list[int] = []
    async with GemrollClient(urls, dev_token(user), presigned_from_bytes=1) as api:
        await api.set_consent(camera_roll=True)
        answers = [await api.upload(path, on_bytes=sent.append) for path in (big, avif)]
        assert [a.status for a in answers] == ["accepted", "accepted"]
        again = await api.upload(big)
        assert again.duplicate and again.media_id == answers[0].media_id
        items = {i["media_id"]: i async for i in api.list_media()}
    assert sum(sent) == big.stat().st_size + avif.stat().st_size
    assert len(sent) > 1  # in chunks, not one buffer
    assert items[answers[1].media_id]["content_type"] == "image/avif"
    assert items[answers[1].media_id]["camera_make"] == "Apple"
    assert set(items) == {a.media_id for a in answers}


def test_an_upload_killed_mid_run_resumes_and_stores_each_photo_once(services, tmp_path):
    user = f"cli-{uuid.uuid4().hex[:8]}"
    roll = tmp_path / "roll"
    roll.mkdir()
    photos = [noisy_photo(roll / f"IMG_{n:04d}.JPG", n) for n in range(40)]
    (roll / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    ok(gemroll(services, "consent", user, "on"))

    def recorded() -> int:
        found = list(roll.glob(".gemroll-upload-*.json"))
        return len(json.loads(found[0].read_text())["files"]) if found else 0

    deadline = time.monotonic() + 60
    while True:  # until a run is killed with some files recorded and others still to go
        run = subprocess.Popen([*GEMROLL, "upload", str(roll), "--user", user,
                                "--concurrency", "1"], env=services.client_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while run.poll() is None and recorded() < 5:
            time.sleep(0.02)
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            run.wait(30)
            break
        _, stderr = run.communicate()
        assert "consent_required" in stderr, stderr  # the ingest has not seen the opt-in yet
        assert time.monotonic() < deadline, "the ingest never saw the consent"
        time.sleep(0.3)
    done_before = recorded()
    assert 5 <= done_before < len(photos)

    resumed = ok(gemroll(services, "upload", str(roll), "--user", user, timeout=300))
    uploaded, duplicates, earlier, rejected, failed = map(int, SUMMARY.search(resumed).groups())
    assert earlier == done_before and failed == 0
    assert duplicates <= 1  # the one photo in flight when the run was killed
    assert uploaded + duplicates + earlier + rejected == len(photos) + 1
    state = json.loads(next(roll.glob(".gemroll-upload-*.json")).read_text())["files"]
    broken = state["broken.jpg"]
    assert broken["status"] == "rejected" and broken["error"].startswith("invalid_image: ")
    assert media_count(services, user) == len(photos)  # each photo once, none missing


SYNC_SUMMARY = re.compile(r"(\d+) uploaded, (\d+) duplicates skipped, (\d+) rejected, "
                          r"(\d+) pending")


def until_count(services, user: str, wanted: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while (found := media_count(services, user)) < wanted:
        assert time.monotonic() < deadline, f"{found} of {wanted} photos on the server"
        time.sleep(0.2)
    assert found == wanted


def test_sync_keeps_the_server_in_step_with_a_folder_while_photos_arrive(services, tmp_path):
    """`gemroll sync`: what is there goes up, photos copied in later follow within seconds,
    a restart sends what arrived meanwhile and nothing twice; a local delete deletes
    nothing on the server."""
    user = f"sync-{uuid.uuid4().hex[:8]}"
    roll = tmp_path / "roll"
    roll.mkdir()
    write_photo(roll / "first.jpg", 1)
    consent = ok(gemroll(services, "consent", user, "on"))
    assert "not yet in effect" not in consent

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([*GEMROLL, "sync", str(roll), "--user", user,
                                 "--debounce-ms", "200", "--settle-s", "0.3"],
                                env={**services.client_env, "COLUMNS": "200"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(run: subprocess.Popen[str]) -> tuple[int, ...]:
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=30)
        assert run.returncode == 0, f"exit {run.returncode}\n{stdout}\n{stderr}"
        return tuple(map(int, SYNC_SUMMARY.search(stdout).groups()))

    run = start()
    try:
        until_count(services, user, 1)
        started = time.monotonic()
        write_photo(roll / "IMG_2.jpg", 2)  # photos arriving while it runs
        write_photo(roll / "IMG_3.jpg", 3)
        (roll / "trip").mkdir()
        write_photo(roll / "trip" / "IMG_4.jpg", 4)
        until_count(services, user, 4, timeout_s=30)
        in_step_s = time.monotonic() - started
        (roll / "first.jpg").unlink()
        time.sleep(1.0)
    finally:
        summary = stop(run)
    assert summary == (4, 0, 0, 0)
    assert in_step_s < 20, f"the server took {in_step_s:.1f} s to follow the folder"
    assert media_count(services, user) == 4  # the local delete deleted nothing

    write_photo(roll / "while-stopped.jpg", 5)
    run = start()
    try:
        until_count(services, user, 5)
    finally:
        summary = stop(run)
    assert summary == (1, 0, 0, 0)  # only the new one: the others are in the state file


def test_suggestions_act_and_tail(services, seed):
    user = f"cli-{uuid.uuid4().hex[:8]}"
    ok(gemroll(services, "consent", user, "on"))
    # Follow the user's actions live while acting on a suggestion.
    tail = subprocess.Popen(
        [*GEMROLL_DEV, "tail", "user-actions", "--user", user, "--limit", "1"],
        env={**services.client_env, "COLUMNS": "200"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        ready = tail.stderr.readline()  # printed once it is positioned at the end
        assert "following gemroll.user-actions.v1" in ready, ready
        seed(user, 3)
        deadline = time.monotonic() + 90
        while not any(s["kind"] == "edit" for s in suggestions(services, user)):
            assert time.monotonic() < deadline, "no suggestions appeared"
            time.sleep(0.5)
        listed = json.loads(ok(gemroll(services, "suggestions", "--user", user, "--json")))
        assert len(listed) == len(suggestions(services, user))
        table = ok(gemroll(services, "suggestions", "--user", user))
        assert all(s["title"][:30] in table for s in listed), table
        edit = next(s for s in listed if s["kind"] == "edit")

        acted = ok(gemroll(services, "act", edit["id"], "save", "--user", user))
        assert f"{edit['id']}: saved" in acted
        out, err = tail.communicate(timeout=60)
        assert tail.returncode == 0, err
        assert "user.action" in out and "saved media" in out, out
        assert str(edit["media_ids"][0])[:8] in out

        saved = json.loads(ok(gemroll(services, "suggestions", "--user", user, "--kind", "edit",
                                      "--status", "saved", "--json")))
        assert [s["id"] for s in saved] == [edit["id"]]
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_a_share_link_opens_in_a_browser_without_a_token_and_404s_after_unshare(services,
                                                                               seed):
    user = f"cli-{uuid.uuid4().hex[:8]}"
    ok(gemroll(services, "consent", user, "on"))
    seed(user, 3)
    deadline = time.monotonic() + 90
    while not (edits := [s for s in suggestions(services, user) if s["kind"] == "edit"]):
        assert time.monotonic() < deadline, "no suggestions appeared"
        time.sleep(0.5)
    shared = ok(gemroll(services, "act", edits[0]["id"], "share", "--user", user))
    link = re.search(r"link: (\S+)", shared).group(1)
    assert link.startswith(services.url("suggester") + "/s/")
    page = httpx.get(link)  # a friend's browser: no token, no cookie
    assert page.status_code == 200 and edits[0]["title"] in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert httpx.get(f"{link}/image/0").headers["content-type"] == "image/jpeg"
    assert link in ok(gemroll(services, "links", "--user", user))
    ok(gemroll(services, "act", edits[0]["id"], "unshare", "--user", user))
    assert httpx.get(link).status_code == 404
    assert "no open share links" in ok(gemroll(services, "links", "--user", user))


def test_tail_replays_a_topic_and_knows_its_names(services):
    user = f"cli-{uuid.uuid4().hex[:8]}"
    ok(gemroll(services, "consent", user, "off"))
    replay = ok(gemroll_dev(services, "tail", "consent", "--from-beginning", "--user", user,
                            "--limit", "1"))
    assert "consent.changed" in replay and "camera_roll=False" in replay
    as_json = ok(gemroll_dev(services, "tail", "gemroll.consent.v1", "--from-beginning",
                             "--user", user, "--limit", "1", "--json"))
    assert json.loads(as_json)["data"]["user_key"] == user_key_of(user)

    unknown = gemroll_dev(services, "tail", "no-such-topic")
    assert unknown.returncode == 2
    assert "media.classified" in unknown.stderr  # it lists the known names
