"""Playwright fixtures: one headless Debian Chromium for all browser tests, a new context
per test. Without Chromium the browser tests are skipped, except under CI=true: they fail.

Between its calls, sync Playwright marks an asyncio loop as running in this thread. So
while the browser is up, Django refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set,
and hands out connections of its own (without the test database's serialized contents,
so serialized_rollback restores nothing). Hence: the browser lives for this package only
(scope "package", not "session": later tests must not see a running loop), and the roles
that the migrations made are put back before each test, after the previous test's flush.
"""

import importlib
import os
import shutil

import pytest
from django.apps import apps

from tests.core.factories import PASSWORD

CHROMIUM = os.environ.get("KONTOR_CHROMIUM", "/usr/bin/chromium")
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if CI:
            pytest.fail(f"{message}; CI=true runs every browser test", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _default_roles(transactional_db):
    """The roles the migrations made; a transactional test's flush removed them."""
    migration = importlib.import_module("kontor.core.migrations.0002_default_roles_and_cache")
    migration.create_roles(apps, None)


class Problems:
    """Console errors, CSP violations and uncaught exceptions seen on any page."""

    def __init__(self):
        self.items: list[str] = []

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"pageerror: {error}"))

    def check(self):
        found, self.items = self.items, []
        assert found == [], "the browser reported problems:\n" + "\n".join(found)

    def _console(self, message):
        text = message.text
        if message.type == "error" or "Content Security Policy" in text:
            self.items.append(f"{message.type} on {message.location.get('url')}: {text}")


@pytest.fixture
def problems():
    return Problems()


def _new_page(browser, live_server, problems, **options):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems.watch(page)
    return context, page


@pytest.fixture
def page(browser, live_server, problems):
    context, page = _new_page(browser, live_server, problems)
    yield page
    context.close()
    problems.check()


@pytest.fixture
def phone_page(browser, live_server, problems):
    context, page = _new_page(
        browser,
        live_server,
        problems,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    yield page
    context.close()
    problems.check()


@pytest.fixture
def login():
    """Log a user in through the login form."""

    def login(page, user, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("form[action='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("details.user-menu")
        return page

    return login


@pytest.fixture
def logout():
    """Log out through the user menu, as a person would before handing over the machine.

    Waits until the page's own requests (partials that load themselves) are done first:
    one still under way when the session ends would come back without a session and
    could set a fresh CSRF cookie behind the next login form's back.
    """

    def logout(page):
        page.wait_for_load_state("networkidle")
        page.locator("details.user-menu > summary").click()
        page.click("details.user-menu form[action='/accounts/logout/'] button[type=submit]")
        page.wait_for_selector("form[action='/accounts/login/']")
        page.wait_for_load_state("networkidle")
        return page

    return logout
