"""The web pages, end to end in headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium): a requester signs in, fills every field type, sends the form with one answer wrong,
fixes it and is pending; the owner signs in, sees the request with its answers and accepts it;
the requester reloads and can download. Screenshots of the gate, the owner's pages and an error
state are saved under target/screenshots/<store>/."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

from support import EP, OWNER_W, ROOT, WEB_M, email, tok

STORE = os.environ.get("GATEHOUSE_TEST_STORE", "sqlite")
SHOTS = ROOT / "target" / "screenshots" / STORE
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

# Flags for a closed network: without the background-networking ones Chromium keeps dialing
# Google's hosts, which this machine refuses.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,1400",
    "--lang=en-US",
]


@pytest.fixture
def open_browser() -> Iterator[Callable[[], WebDriver]]:
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    drivers: list[WebDriver] = []
    profiles: list[str] = []

    def make() -> WebDriver:
        profile = tempfile.mkdtemp(prefix="gatehouse-chromium-")
        profiles.append(profile)
        options = Options()
        options.binary_location = CHROMIUM
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def click_and_load(driver: WebDriver, element) -> None:
    """Clicks what loads a new page, and waits until it has: the old page's root is gone (asked
    mid-navigation, Chromium may answer with any error about it, not only a stale one) and the
    new one is loaded."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def left(_: WebDriver) -> bool:
        try:
            page.tag_name
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 10).until(left)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver: WebDriver, token: str, page: str) -> None:
    driver.get(f"{EP}{page}")
    click_and_load(driver, driver.find_element(By.LINK_TEXT, "Sign in"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sign in"
    driver.find_element(By.ID, "token").send_keys(token)
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.panel button[type=submit]"))
    assert driver.current_url == f"{EP}{page}"


def field(driver: WebDriver, label: str):
    """The input a label names: every field is reachable through its label."""
    target = driver.find_element(By.XPATH, f"//label[normalize-space(.)={label!r}]").get_attribute("for")
    return driver.find_element(By.ID, target)


def error_of(driver: WebDriver, element) -> str:
    described = element.get_attribute("aria-describedby")
    assert element.get_attribute("aria-invalid") == "true"
    return driver.find_element(By.ID, described).text


def test_a_requester_asks_the_owner_accepts_and_the_requester_downloads(open_browser) -> None:
    page = f"/{WEB_M}"
    requester = open_browser()
    requester.get(f"{EP}{page}")
    assert "Sign in to ask for access" in requester.page_source.replace("</a> to", " to")
    sign_in(requester, tok("wendy"), page)

    # The gate: heading, prompt, the contact information shared, one input per field.
    assert requester.find_element(By.ID, "gate-heading").text == "Ask for the web model"
    assert requester.title != "pwned", "the card's script and the prompt's handler must not run"
    assert requester.find_element(By.CSS_SELECTOR, ".card strong").text == "license"
    # The card's body, rendered on commit: on the DynamoDB store as on AWS, with no blob read.
    card = requester.find_element(By.CSS_SELECTOR, "section.card")
    assert card.find_element(By.TAG_NAME, "h1").text == "Web model"
    contact = requester.find_element(By.CSS_SELECTOR, "dl.contact").text
    assert "wendy" in contact and "Wendy <b>Web</b>" in contact and email("wendy") in contact
    screenshot(requester, "gate")

    field(requester, "Company").send_keys("Initech")
    Select(field(requester, "Country")).select_by_visible_text("France")
    requester.execute_script("arguments[0].value = '1990-04-01'", field(requester, "Date of birth"))
    Select(field(requester, "Intended use")).select_by_visible_text("Other")
    # "I accept the license" left unticked: the one wrong answer.
    click_and_load(requester, requester.find_element(By.CSS_SELECTOR, "form[action$='/ask-access'] button[type=submit]"))

    checkbox = field(requester, "I accept the license")
    assert error_of(requester, checkbox) == "I accept the license must be checked"
    assert field(requester, "Company").get_attribute("value") == "Initech"
    assert Select(field(requester, "Country")).first_selected_option.get_attribute("value") == "FR"
    assert field(requester, "Date of birth").get_attribute("value") == "1990-04-01"
    assert Select(field(requester, "Intended use")).first_selected_option.get_attribute("value") == "other"
    screenshot(requester, "gate-error")

    checkbox.send_keys(" ")  # the keyboard ticks it
    assert checkbox.is_selected()
    click_and_load(requester, requester.find_element(By.CSS_SELECTOR, "form[action$='/ask-access'] button[type=submit]"))
    assert requester.current_url == f"{EP}{page}"
    assert "awaiting review" in requester.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert not requester.find_elements(By.CSS_SELECTOR, "table.files")

    # Not an owner: the settings page refuses.
    requester.get(f"{EP}{page}/settings")
    assert requester.find_element(By.TAG_NAME, "h1").text == "Not allowed"
    screenshot(requester, "not-allowed")

    owner = open_browser()
    sign_in(owner, OWNER_W, page)
    click_and_load(owner, owner.find_element(By.LINK_TEXT, "Settings and access requests"))
    assert owner.find_element(By.ID, "gated-manual").is_selected()
    assert "The README's form is valid" in owner.page_source.replace("&#39;", "'")
    screenshot(owner, "owner-settings")
    click_and_load(owner, owner.find_element(By.LINK_TEXT, "Review requests"))
    request = owner.find_element(By.CSS_SELECTOR, "article[aria-label='Request of wendy']")
    answers = request.text
    for expected in ("Initech", "FR", "1990-04-01", "other", email("wendy")):
        assert expected in answers, answers
    screenshot(owner, "owner-requests")
    click_and_load(owner, request.find_element(By.XPATH, ".//button[normalize-space(.)='Accept']"))
    assert not owner.find_elements(By.CSS_SELECTOR, "article[aria-label='Request of wendy']")
    click_and_load(owner, owner.find_element(By.LINK_TEXT, "Accepted"))
    assert owner.find_elements(By.CSS_SELECTOR, "article[aria-label='Request of wendy']")

    requester.get(f"{EP}{page}")
    assert "Access granted" in requester.find_element(By.CSS_SELECTOR, "[role=status]").text
    link = requester.find_element(By.LINK_TEXT, "config.json").get_attribute("href")
    assert link == f"{EP}{page}/resolve/main/config.json"
    session = requester.get_cookie("gatehouse_session")
    assert session is not None and session["httpOnly"] and session["sameSite"] == "Lax"
    download = urllib.request.Request(link, headers={"Cookie": f"gatehouse_session={session['value']}"})
    with urllib.request.urlopen(download, timeout=10) as answer:  # noqa: S310 - loopback only
        assert answer.status == 200
        assert answer.read() == b'{"web": true}'


def test_a_forged_post_and_a_tampered_session_get_refusal_pages(open_browser) -> None:
    driver = open_browser()
    sign_in(driver, tok("wendy"), f"/{WEB_M}")
    driver.add_cookie({"name": "gatehouse_session", "value": "tampered.1.x", "path": "/"})
    driver.get(f"{EP}/{WEB_M}")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sign in required"
    assert "session has expired" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    screenshot(driver, "session-refused")
    # A form whose CSRF token was tampered with, as a forged post would carry.
    driver.get(f"{EP}/login")
    driver.execute_script("document.querySelector('input[name=_csrf]').value = 'forged'")
    driver.find_element(By.ID, "token").send_keys(tok("wendy"))
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.panel button[type=submit]"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not allowed"
    assert "sent from another site" in driver.page_source
    assert driver.get_cookie("gatehouse_session") is None
