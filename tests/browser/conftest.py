"""A real Chromium (Debian's package) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.journey import smtp_sink  # noqa: F401  (fixture: a real SMTP server for test sends)

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make around
# it are still synchronous, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


_SHARED: list = []


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("AICMO_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"Chromium not found at {CHROMIUM}; `apt-get install chromium` (make test does this)."
            )
        pytest.skip("Chromium is not installed (apt-get install chromium); make test installs it.")
    if _SHARED:  # imported by a test module elsewhere: one Playwright per process (its loop is the thread's)
        yield _SHARED[0]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        _SHARED.append(browser)
        try:
            yield browser
        finally:
            _SHARED.clear()
            browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """screenshot("step-name") saves var/screenshots/<test>/<nn>-<step>.png."""
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(step: str) -> Path:
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
