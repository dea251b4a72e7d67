"""The review page in headless Chromium: sign in with a development token, opt in, see the
suggestions the suggester made, share one, see its public link and watch the training report
admit its photos; then apply an AI edit and see the edited copy admitted too; open the share
link in a fresh tab without a token, and unshare it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from gemroll_cli.tokens import dev_token
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.integration

WAIT_S = 90
SCREENSHOT = Path(__file__).resolve().parents[2] / "reports" / "e2e" / "review-page.png"


def cards(driver, kind: str | None = None) -> list[str]:
    """The ids of the suggestion cards shown, read in one script (cards re-render often, so
    element handles would go stale between calls)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=suggestion]')]"
        ".filter(c => arguments[0] === null || c.dataset.kind === arguments[0])"
        ".map(c => c.getAttribute('data-id'));", kind)


def card_status(driver, suggestion_id: str) -> str | None:
    return driver.execute_script(
        "const s = document.querySelector(`[data-id='${arguments[0]}'] [data-testid=status]`);"
        "return s ? s.textContent : null;", suggestion_id)


def click_action(driver, suggestion_id: str, action: str) -> bool:
    """Click the card's button (found afresh: cards are re-rendered after each change)."""
    driver.find_element(By.CSS_SELECTOR,
                        f'[data-id="{suggestion_id}"] [data-action="{action}"]').click()
    return True


def training_rows(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=training-row]')]"
        ".map(r => [...r.cells].map(c => c.innerText.trim()).join(' '));")


def share_links(driver) -> list[tuple[str, str]]:
    return [tuple(x) for x in driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=share-link]')]"
        ".map(li => [li.dataset.suggestion, li.querySelector('a').href]);")]


def css(selector: str):
    return (By.CSS_SELECTOR, selector)


def test_share_and_edit_change_the_training_report(services, seed, browser):
    user = f"reviewer-{uuid.uuid4().hex[:8]}"
    token = dev_token(user)
    driver = browser
    wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.3,
                         ignored_exceptions=(StaleElementReferenceException,))
    policy = httpx.Client(base_url=services.url("policy"),
                          headers={"Authorization": f"Bearer {token}"})

    # Sign in by pasting a development token.
    driver.get(services.url("review") + "/")
    wait.until(ec.visibility_of_element_located(css('[data-testid="token-input"]')))
    driver.find_element(*css('[data-testid="token-input"]')).send_keys(token)
    driver.find_element(*css('[data-testid="sign-in"]')).click()
    wait.until(ec.text_to_be_present_in_element(css('[data-testid="who"]'), user))

    # Nothing is used for training yet. Opt in to camera-roll suggestions on the page.
    wait.until(ec.presence_of_element_located(css('[data-testid="training-empty"]')))
    opt_in = driver.find_element(*css('[data-testid="consent-camera-roll"]'))
    assert not opt_in.is_selected()
    opt_in.click()
    wait.until(lambda _: policy.get("/v1/consent").json()["camera_roll"])

    # The classifier's output arrives; the suggester makes suggestions once the day is quiet.
    media_ids = {str(m) for m in seed(user, 4)}

    def suggestions_shown(d) -> bool:
        d.find_element(*css('[data-testid="refresh"]')).click()
        return bool(cards(d, "highlight") or cards(d, "collage")) and bool(cards(d, "edit"))

    wait.until(suggestions_shown)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    group_id = (cards(driver, "highlight") or cards(driver, "collage"))[0]
    assert card_status(driver, group_id) == "proposed"
    assert not training_rows(driver)

    # Share it: the card says so, its public link is listed, and the training report admits
    # its photos.
    wait.until(lambda d: click_action(d, group_id, "share"))
    wait.until(lambda d: card_status(d, group_id) == "shared")
    wait.until(lambda d: share_links(d))
    [(link_for, link)] = share_links(driver)
    assert link_for == group_id and "/s/" in link
    wait.until(lambda d: any("you shared it" in r for r in training_rows(d)))
    assert all("admitted" in r for r in training_rows(driver)), training_rows(driver)
    page = driver.current_window_handle

    # Apply an AI edit to a photo: its edited copy is admitted as well (on the strength of
    # the earlier share or of the edit itself: either action qualifies).
    edit_id = cards(driver, "edit")[0]
    wait.until(lambda d: click_action(d, edit_id, "edit"))
    wait.until(lambda d: card_status(d, edit_id) == "edited")
    try:
        wait.until(lambda d: any("AI-edited copy admitted" in r for r in training_rows(d)))
    except TimeoutException:
        pytest.fail(f"no AI-edited copy shown; page: {training_rows(driver)}; "
                    f"policy: {policy.get('/v1/me/training-report').text}")

    # What the page shows is what the policy service reports.
    report = policy.get("/v1/me/training-report").json()
    assert {i["media_id"] for i in report["items"]} <= media_ids
    assert {i["status"] for i in report["items"]} == {"admitted"}
    assert {i["basis"] for i in report["items"]} <= {"shared", "edited_with_ai"}
    assert {i["source"] for i in report["items"]} == {"classifier", "suggester"}
    assert len(training_rows(driver)) == len(report["items"])
    policy.close()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))  # to look at: reports/e2e/review-page.png

    # The link in a friend's browser: a fresh tab without the token (stored per origin, so
    # the share page is opened on the suggester itself), then unshare closes it at once.
    public = link.replace(services.url("review"), services.url("suggester"))
    driver.switch_to.new_window("tab")
    driver.get(public)
    shown = ("return [...document.images].map(i => i.complete && i.naturalWidth > 0);")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "h1")
               and all(d.execute_script(shown)))
    assert len(driver.execute_script(shown)) == 1 + 4  # the cover and the 4 photos
    driver.save_screenshot(str(SCREENSHOT.with_name("share-page.png")))
    driver.close()
    driver.switch_to.window(page)
    wait.until(lambda d: click_action(d, group_id, "unshare"))
    wait.until(lambda d: not share_links(d))
    assert httpx.get(public).status_code == 404
    assert httpx.get(link).status_code == 404  # also through the review server
