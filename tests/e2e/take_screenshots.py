"""Take the screenshots in docs/screenshots/ with headless Chromium.

    .venv/bin/python tests/e2e/take_screenshots.py [output-dir]

Starts ``runserver`` (dev settings) on a free port with a throw-away data directory, seeds
the demo users, signs in as ``demo-admin`` (TOTP code from ``demo_otp_code``) and as
``demo-police``, and saves the main pages. Not a test: it is run by hand after UI changes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tiplab_web.manage", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logins(data_dir: Path) -> dict[str, str]:
    rows = [
        line.split("\t")
        for line in (data_dir / "demo-logins.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return {r[0]: r[2] for r in rows}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="tiplab-shots-"))
    env = {
        **os.environ,
        "TIPLAB_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "tiplab_web.settings.dev",
    }
    manage(env, "migrate", "-v0")
    manage(env, "seed_demo_users")
    passwords = logins(data_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tiplab_web.manage", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base + "/accounts/login/")
            page.screenshot(path=out / "login.png")

            page.get_by_label("Username").fill("demo-admin")
            page.get_by_label("Password").fill(passwords["demo-admin"])
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/two-factor/verify/**")
            page.screenshot(path=out / "two-factor.png")
            code = manage(env, "demo_otp_code", "demo-admin").strip()
            page.get_by_label("Six-digit code from your authenticator app").fill(code)
            page.get_by_role("button", name="Verify").click()
            page.wait_for_url(base + "/")
            page.screenshot(path=out / "dashboard.png", full_page=True)
            page.goto(base + "/audit/")
            page.screenshot(path=out / "audit-log.png", full_page=True)
            page.goto(base + "/accounts/users/")
            page.screenshot(path=out / "users.png", full_page=True)

            reporter = browser.new_page(viewport={"width": 1280, "height": 800})
            reporter.goto(base + "/accounts/login/")
            reporter.get_by_label("Username").fill("demo-police")
            reporter.get_by_label("Password").fill(passwords["demo-police"])
            reporter.get_by_role("button", name="Sign in").click()
            reporter.wait_for_url(base + "/")
            reporter.goto(base + "/accounts/tokens/")
            reporter.get_by_label("Name").fill("police case system")
            reporter.get_by_role("button", name="Create token").click()
            reporter.screenshot(path=out / "api-tokens.png", full_page=True)
            reporter.goto(base + "/api/docs")
            reporter.wait_for_selector(".opblock-summary-path")
            reporter.screenshot(path=out / "api-docs.png")

            phone = browser.new_page(viewport={"width": 390, "height": 760})
            phone.goto(base + "/accounts/login/?next=/")
            phone.get_by_label("Username").fill("demo-police")
            phone.get_by_label("Password").fill(passwords["demo-police"])
            phone.get_by_role("button", name="Sign in").click()
            phone.wait_for_url(base + "/")
            phone.keyboard.press("Tab")  # shows the skip link and its focus style
            phone.screenshot(path=out / "dashboard-mobile.png")
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
