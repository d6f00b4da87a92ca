"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server.

Needs ``apt-get install -y chromium`` (never ``playwright install``). Runs under the test
settings, which have no HTTPS redirect (live_server speaks plain HTTP)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def console_errors(page):
    """Console errors (CSP violations show up here); a test asserts the list stays empty.
    Chromium's notes about pages answered with 403/404 are expected and left out."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error" and not re.match(
            r"Failed to load resource: the server responded with a status of 40[34]", msg.text
        ):
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
