"""The review page as the app, in headless Chromium: upload photos from the page (with
progress; a file that is no photo is refused with the service's reason), watch the
classifier's verdicts arrive, filter gems and junk by reason, move through the grid with the
keyboard and delete a photo with the Delete key, read why each photo may or may not train AI;
and an accessibility audit (axe-core) of the whole page finds nothing serious."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from axe_core_python.selenium import Axe
from gemroll_cli.tokens import dev_token, user_key_of
from gemroll_contracts import MEDIA_CLASSIFIED
from gemroll_testkit import photos
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import classifier_publisher, verdict

pytestmark = pytest.mark.integration

WAIT_S = 60
SCREENSHOT = Path(__file__).resolve().parents[2] / "reports" / "e2e" / "review-photos.png"
SERIOUS = {"serious", "critical"}


def tiles(driver) -> list[dict]:
    """The photo tiles shown, read in one script (the grid re-renders while verdicts arrive)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=photo]')].map(t => ({"
        " id: t.dataset.id, verdict: t.dataset.verdict, training: t.dataset.training,"
        " why: t.querySelector('[data-testid=why]').textContent,"
        " alt: t.querySelector('img').alt,"
        " shown: t.querySelector('img').complete && t.querySelector('img').naturalWidth > 0}));")


def chips(driver) -> dict[str, tuple[str, str]]:
    return {label: (v, r) for label, v, r in driver.execute_script(
        "return [...document.querySelectorAll('#photo-filters button')]"
        ".map(b => [b.textContent, b.dataset.verdict, b.dataset.reason]);")}


def click_chip(driver, starts_with: str) -> None:
    for button in driver.find_elements(By.CSS_SELECTOR, "#photo-filters button"):
        if button.text.startswith(starts_with):
            button.click()
            return
    raise AssertionError(f"no filter {starts_with!r} in {list(chips(driver))}")


def focused_tile(driver) -> str | None:
    return driver.execute_script(
        "const t = document.activeElement; return t && t.dataset ? t.dataset.id || null : null;")


def test_upload_filter_keyboard_delete_and_accessibility(services, browser, tmp_path):
    from gemroll_dev.stack.control import run_sync

    user = f"gallery-{uuid.uuid4().hex[:8]}"
    token = dev_token(user)
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.put(services.url("policy") + "/v1/consent", json={"camera_roll": True},
                     headers=auth).status_code == 200
    driver = browser
    wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.3,
                         ignored_exceptions=(StaleElementReferenceException,))

    scene = {name: photos.scene(seed, (960, 720)) for seed, name in enumerate(
        ("sharp", "blurry", "dark"))}
    pixels = {"sharp": scene["sharp"], "blurry": photos.blurred(scene["blurry"], 8),
              "dark": photos.darkened(scene["dark"])}
    files = []
    for name, image in pixels.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(photos.jpeg(image, exif=photos.camera_exif()))
        files.append(path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    # Signed in from the link `gemroll-dev review --user` opens; upload four files at once.
    driver.get(services.url("review") + f"/#token={token}")
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, '[data-testid="who"]'), user))
    driver.find_element(By.CSS_SELECTOR, '[data-testid="upload-input"]').send_keys(
        "\n".join(str(p) for p in [*files, notes]))
    outcomes = ("return [...document.querySelectorAll('[data-testid=upload]')]"
                ".map(u => [u.dataset.outcome, u.textContent, u.querySelector('progress').value]);")
    wait.until(lambda d: len(d.execute_script(outcomes)) == 4
               and all(o[0] for o in d.execute_script(outcomes)))
    shown = driver.execute_script(outcomes)
    assert [o[0] for o in shown] == ["ok", "ok", "ok", "refused"], shown
    assert all(o[2] == 100 for o in shown[:3])
    assert "notes.txt" in shown[3][1] and "JPEG" in shown[3][1]  # the service's own reason

    listing = httpx.get(services.url("ingest") + "/v1/media", headers=auth).json()["items"]
    assert len(listing) == 3
    wait.until(lambda d: {t["id"] for t in tiles(d)} == {i["media_id"] for i in listing})
    assert {t["verdict"] for t in tiles(driver)} == {"pending"}
    by_size = {i["size_bytes"]: uuid.UUID(i["media_id"]) for i in listing}
    ids = {name: by_size[path.stat().st_size] for name, path in zip(pixels, files, strict=True)}

    # The classifier's verdicts arrive; the page picks them up by itself.
    reasons = {"sharp": (True, ["photo:camera_exif", "gem:sharp_and_well_exposed"]),
               "blurry": (False, ["blurry:low_laplacian_variance", "gem:low_score"]),
               "dark": (False, ["dark:low_mean_luminance", "dark:crushed_shadows"])}

    async def classify() -> None:
        async with classifier_publisher(services) as publisher:
            for name, (gem, why) in reasons.items():
                await publisher.publish(
                    MEDIA_CLASSIFIED, verdict(services, user, ids[name], is_gem=gem, reasons=why),
                    key=user_key_of(user))

    run_sync(classify())
    wait.until(lambda d: sorted(t["verdict"] for t in tiles(d)) == ["gem", "junk", "junk"])
    wait.until(lambda d: all(t["shown"] for t in tiles(d)))
    by_id = {t["id"]: t for t in tiles(driver)}
    assert by_id[str(ids["blurry"])]["why"] == "blurry"
    assert by_id[str(ids["dark"])]["why"] == "too dark"
    assert "gem" in by_id[str(ids["sharp"])]["alt"]
    assert {t["training"] for t in tiles(driver)} == {"not_used"}
    labels = chips(driver)
    for label in ("all 3", "gems 1", "junk 2", "junk: blurry 1", "junk: too dark 1"):
        assert label in labels, labels

    # Filters: junk by reason, gems, back to all.
    click_chip(driver, "junk: blurry")
    wait.until(lambda d: [t["id"] for t in tiles(d)] == [str(ids["blurry"])])
    click_chip(driver, "gems")
    wait.until(lambda d: [t["id"] for t in tiles(d)] == [str(ids["sharp"])])
    click_chip(driver, "all")
    wait.until(lambda d: len(tiles(d)) == 3)

    # An accessibility audit of the signed-in page, everything shown.
    audit = Axe().run(driver)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.with_name("review-photos-axe.json").write_text(json.dumps(
        [{k: v[k] for k in ("id", "impact", "help")} for v in audit["violations"]], indent=1))
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in audit["violations"] if v["impact"] in SERIOUS]
    assert not serious, serious
    assert audit["passes"], "the audit ran no checks"
    driver.save_screenshot(str(SCREENSHOT))  # to look at: reports/e2e/review-photos.png

    # Keyboard: one tab stop, arrows move, Home and End jump.
    order = [t["id"] for t in tiles(driver)]
    driver.execute_script("document.querySelector('[data-testid=photo][tabindex=\"0\"]').focus()")
    assert focused_tile(driver) == order[0]
    driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert focused_tile(driver) == order[1]
    driver.switch_to.active_element.send_keys(Keys.END)
    assert focused_tile(driver) == order[-1]
    driver.switch_to.active_element.send_keys(Keys.HOME)
    assert focused_tile(driver) == order[0]
    assert driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=photo]')]"
        ".filter(t => t.tabIndex === 0).length") == 1

    # Delete asks first: dismissing keeps the photo, accepting deletes it for good.
    target = str(ids["blurry"])
    while focused_tile(driver) != target:
        driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    driver.switch_to.active_element.send_keys(Keys.DELETE)
    wait.until(ec.alert_is_present()).dismiss()
    assert target in [t["id"] for t in tiles(driver)]
    driver.switch_to.active_element.send_keys(Keys.DELETE)
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: target not in [t["id"] for t in tiles(d)])
    assert focused_tile(driver) in {str(ids["sharp"]), str(ids["dark"])}  # focus stays in
    assert httpx.get(services.url("ingest") + f"/v1/media/{target}",
                     headers=auth).status_code == 404
    wait.until(lambda d: "junk 1" in chips(d) and not any(
        label.startswith("junk: blurry") for label in chips(d)))

    # A large file goes straight to the object store (presigned PUT, with progress), then the
    # ingest validates it: here an AVIF, with the threshold lowered to one byte.
    avif = tmp_path / "large.avif"
    avif.write_bytes(photos.avif(photos.scene(7, (960, 720)), exif=photos.camera_exif()))
    driver.execute_script("state.presignedFromBytes = 1;")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="upload-input"]').send_keys(str(avif))
    wait.until(lambda d: len(d.execute_script(outcomes)) == 5
               and d.execute_script(outcomes)[4][0])
    assert driver.execute_script(outcomes)[4][0] == "ok", driver.execute_script(outcomes)
    assert driver.execute_script(outcomes)[4][2] == 100
    puts = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(u => u.includes('X-Amz-Signature'));")
    assert len(puts) == 1 and puts[0].startswith(services.iso.s3.endpoint), puts
    listing = httpx.get(services.url("ingest") + "/v1/media", headers=auth).json()["items"]
    assert sorted(i["content_type"] for i in listing) == ["image/avif", "image/jpeg",
                                                          "image/jpeg"]
    wait.until(lambda d: len(tiles(d)) == 3 and all(t["shown"] for t in tiles(d)))

    # Turn off and erase everything: asked first, then every photo goes, on the page too.
    driver.find_element(By.CSS_SELECTOR, '[data-testid="erase-everything"]').click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: not tiles(d)
               and d.find_element(By.CSS_SELECTOR, '[data-testid="no-photos"]').is_displayed())
    assert not driver.find_element(By.CSS_SELECTOR,
                                   '[data-testid="consent-camera-roll"]').is_selected()
    assert httpx.get(services.url("ingest") + "/v1/media", headers=auth).json()["items"] == []
    assert httpx.get(services.url("ingest") + f"/v1/media/{ids['sharp']}/preview",
                     headers=auth).status_code == 404
