"""The documentation pages in a real browser: headless Debian Chromium through its ChromeDriver.

Swagger UI at /docs: authorize an ADMIN through the OAuth2 password form, run `GET /users/me`
with "Try it out", see `200` and the admin's email; a screenshot goes to
test-output/docs-authorized.png. ReDoc at /redoc and Scalar at /scalar render the API's title,
which only their JavaScript (served by the API at /docs/assets/*, no CDN) can do.

Chromium and ChromeDriver come from Debian (`make browser` installs them). A browser that cannot
start fails the test with the reason: it never skips. CHROMIUM_PATH and CHROMEDRIVER_PATH point
elsewhere where the Debian paths do not exist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
import redis
from pymongo.database import Database
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from tests.factories import make_user
from todo_common.principal import Role

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOT = OUTPUT / "docs-authorized.png"
FAILURE_SCREENSHOT = OUTPUT / "docs-browser-failure.png"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_PATH", "/usr/bin/chromedriver")
TITLE = "Todo API"
PASSWORD = "browser-admin-password-1"
T = TypeVar("T")
WAIT_SECONDS = 30  # the bundles are megabytes, parsed on 2 cores: generous, and never a sleep


def _path_of(name: str, path: str) -> str:
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{name} is not at {path}: run `make browser` (as root on Debian it installs "
            "chromium and chromium-driver with apt-get), or set "
            f"{name.upper()}_PATH to another {name}",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium; --no-sandbox because the tests run as root (in CI too)."""
    chromium = _path_of("chromium", CHROMIUM)
    chromedriver = _path_of("chromedriver", CHROMEDRIVER)
    profile = tmp_path_factory.mktemp("chromium-profile")
    driver_log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",  # small /dev/shm in containers
        "--disable-gpu",
        "--no-proxy-server",  # loopback only: the pages must work with no internet
        "--no-first-run",
        "--window-size=1280,1700",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    service = Service(executable_path=chromedriver, log_output=str(driver_log))
    driver: WebDriver | None = None
    reason = ""
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except WebDriverException as error:
        reason = error.msg or repr(error)
    if driver is None:
        log = driver_log.read_text(errors="replace")[-3000:] if driver_log.exists() else ""
        pytest.fail(
            f"headless Chromium ({chromium}) did not start through {chromedriver}: {reason}\n"
            f"chromedriver log ({driver_log}), its end:\n{log}",
            pytrace=False,
        )
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def _console(driver: WebDriver) -> str:
    """The page's console errors, for failure messages (a missing asset shows up here)."""
    get_log: Callable[[str], list[dict[str, Any]]] = driver.get_log  # untyped in selenium
    try:
        entries = get_log("browser")
    except WebDriverException:
        return "(no browser log)"
    return "\n".join(str(entry.get("message")) for entry in entries) or "(no console errors)"


def _poll(driver: WebDriver, condition: Callable[[WebDriver], T | Literal[False]]) -> T | None:
    """`condition`'s first truthy value, polled every 0.1 s for up to WAIT_SECONDS; or None."""
    wait = WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.1,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    try:
        return wait.until(condition)
    except TimeoutException:
        return None


def _until(driver: WebDriver, condition: Callable[[WebDriver], T | Literal[False]], what: str) -> T:
    """`_poll`, failing (with a screenshot, the page and its console errors) on a time-out."""
    value = _poll(driver, condition)
    if value is None:
        OUTPUT.mkdir(exist_ok=True)
        driver.save_screenshot(str(FAILURE_SCREENSHOT))
        pytest.fail(
            f"waited {WAIT_SECONDS} s in vain for {what} on {driver.current_url} "
            f"(screenshot: {FAILURE_SCREENSHOT}); browser console:\n{_console(driver)}",
            pytrace=False,
        )
    return value


def _find(driver: WebDriver, css: str, what: str, within: WebElement | None = None) -> WebElement:
    """The first displayed element matching `css` (inside `within`), once there is one."""
    scope = within or driver

    def displayed(_: WebDriver) -> WebElement | Literal[False]:
        for element in scope.find_elements(By.CSS_SELECTOR, css):
            if element.is_displayed():
                return element
        return False

    return _until(driver, displayed, f"{what} ({css}) to appear")


def _click(driver: WebDriver, css: str, what: str, within: WebElement | None = None) -> None:
    """Click once the element is displayed and enabled (scrolled into view first)."""
    scope = within or driver

    def clickable(_: WebDriver) -> WebElement | Literal[False]:
        for element in scope.find_elements(By.CSS_SELECTOR, css):
            if element.is_displayed() and element.is_enabled():
                return element
        return False

    element = _until(driver, clickable, f"{what} ({css}) to be clickable")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def test_swagger_ui_authorizes_and_runs_users_me(
    browser: WebDriver,
    gateway_url: str,
    db: Database[dict[str, Any]],
    redis_client: redis.Redis,  # emptied: no login throttling left by earlier tests
) -> None:
    admin = make_user(db, role=Role.ADMIN, password=PASSWORD)
    browser.get(f"{gateway_url}/docs")

    # Authorize through the OAuth2 password flow (POST /auth/token, username = email).
    _click(browser, "button.btn.authorize", "the Authorize button")
    dialog = _find(browser, ".modal-ux", "the authorization dialog")
    _find(browser, "#oauth_username", "the username field", dialog).send_keys(admin.email)
    _find(browser, "#oauth_password", "the password field", dialog).send_keys(PASSWORD)
    _click(browser, ".auth-btn-wrapper button.authorize", "the dialog's Authorize", dialog)

    def authorized(_: WebDriver) -> str | Literal[False]:
        errors = [e.text.strip() for e in dialog.find_elements(By.CSS_SELECTOR, ".errors")]
        if any(errors):
            return f"Swagger UI showed: {' '.join(errors)}"
        buttons = dialog.find_elements(By.CSS_SELECTOR, ".auth-btn-wrapper button")
        return "authorized" if any(b.text.strip() == "Logout" for b in buttons) else False

    outcome = _until(browser, authorized, "the dialog to show Logout (or an error)")
    assert outcome == "authorized", f"authorizing {admin.email} failed: {outcome}"
    _click(browser, "button.btn-done", "the dialog's Close", dialog)
    _until(
        browser,
        ec.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")),
        "the dialog to close",
    )

    # Expand GET /users/me, try it out, execute.
    block_xpath = (
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' opblock-get ')]"
        "[.//*[contains(@class, 'opblock-summary-path') and @data-path='/users/me']]"
    )
    block = _until(
        browser,
        ec.presence_of_element_located((By.XPATH, block_xpath)),
        "the GET /users/me operation",
    )
    _click(browser, ".opblock-summary", "the GET /users/me summary", block)
    _click(browser, "button.try-out__btn", "Try it out", block)
    _click(browser, "button.execute", "Execute", block)

    status_css = ".live-responses-table tbody .response .response-col_status"  # not the header

    def status_shown(_: WebDriver) -> str | Literal[False]:
        cells = block.find_elements(By.CSS_SELECTOR, status_css)
        return (cells[0].text.strip() or False) if cells else False

    status = _poll(browser, status_shown) or f"(no response within {WAIT_SECONDS} s)"
    bodies = block.find_elements(
        By.CSS_SELECTOR, ".live-responses-table .response-col_description .microlight"
    )
    body = bodies[0].text if bodies else ""
    # The shot: the operation's header (padlock closed), the request and the response.
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", block)
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    where = f"(screenshot: {SCREENSHOT})"
    assert status == "200", f"GET /users/me showed {status!r}: {body} {where}"
    assert admin.email in body, f"the response body lacks {admin.email}: {body} {where}"
    assert json.loads(body)["role"] == "ADMIN", f"{body} {where}"


@pytest.mark.parametrize("page", ["/redoc", "/scalar"])
def test_reference_page_renders_offline(browser: WebDriver, gateway_url: str, page: str) -> None:
    """The static HTML has no heading: a heading with the API's title means the page's
    JavaScript (from /docs/assets/*) loaded and rendered /openapi.json. A script error in an
    asset ends the wait at once."""
    browser.get(f"{gateway_url}{page}")
    get_log: Callable[[str], list[dict[str, Any]]] = browser.get_log  # untyped in selenium
    errors: list[str] = []

    def rendered(_: WebDriver) -> tuple[str, str] | Literal[False]:
        errors.extend(str(entry.get("message")) for entry in get_log("browser"))
        broken = [error for error in errors if "/docs/assets/" in error]
        if broken:
            return "error", "\n".join(broken)
        for element in browser.find_elements(By.CSS_SELECTOR, "h1, h2"):
            if TITLE in element.text and element.is_displayed():
                return "heading", str(element.text.strip())
        return False

    outcome, text = _until(browser, rendered, f"a heading with {TITLE!r}")
    assert outcome == "heading", f"{page}: an asset failed in the browser:\n{text}"
    assert TITLE in text
