"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server on PostgreSQL.

Screenshots of the main pages go to var/screenshots/ (kept as test artifacts for people to look at).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The portal tests' data fixtures (a version under validation, a packeted version), shared here.
from tests.portal.conftest import clear_cache, packeted, under_validation  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django would then refuse the
    # test's own (synchronous) database calls as "async-unsafe" although nothing runs concurrently.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser, live_server):
    """A fresh browser context (its own cookies) per person; closed after the test."""
    contexts = []

    def open_for(width: str = "desktop"):
        w, h = WIDTHS[width]
        context = browser.new_context(viewport={"width": w, "height": h}, base_url=live_server.url,
                                      accept_downloads=True)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield open_for
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in():
    from tests.conftest import PASSWORD

    def go(page, username: str, password: str = PASSWORD):
        if "/accounts/login/" not in page.url:  # else keep the ?next= the redirect gave
            page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return go


@pytest.fixture
def screenshot():
    """Save the page at both widths as var/screenshots/<name>-<width>.png; returns the paths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> list[Path]:
        # Every image on the page has arrived and decoded (a broken chart fails the test here).
        # (decode() rejects for an image that cannot be shown; evaluate, unlike wait_for_function, compiles
        # no string in the page, which the Content-Security-Policy's script-src 'self' forbids.)
        page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode()))")
        paths = []
        for label, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            path = SCREENSHOTS / f"{name}-{w}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 0, label
            paths.append(path)
        page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})
        return paths

    return shoot
