"""Security baseline: CSP and other headers, production settings that refuse insecure
configuration, and ``check --deploy`` passing with production settings."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from tiplab_web.core.csp import csp_update

GOOD_SECRET = "k3Vq9-7yZp_Wm2Lr8Tn4Xc6Bd1Fg5Hj0Ks3Qa9We7Rt2Yu8Io4Pl6Zx1Cv5Bn3Mq7"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/health", "/api/docs", "/nowhere/"])
def test_csp_header_on_every_response(path):
    response = Client().get(path)
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


@pytest.mark.django_db
def test_other_security_headers():
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_csp_update_decorator_changes_one_directive(rf):
    from django.http import HttpResponse

    from tiplab_web.core.csp import ContentSecurityPolicyMiddleware

    @csp_update(img_src="'self' data: blob:")
    def view(request):
        return HttpResponse("ok")

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/"))
    assert "img-src 'self' data: blob:" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle=", re.I)
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""", re.I)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/accounts/login/", None),
        ("/", "administrator"),
        ("/", "analyst"),
        ("/audit/", "administrator"),
        ("/accounts/users/", "administrator"),
        ("/accounts/tokens/", "agency_reporter"),
        ("/accounts/two-factor/setup/", "analyst"),
        ("/accounts/organisations/", "administrator"),
        ("/api/docs", None),
    ],
)
def test_pages_have_no_inline_scripts_styles_or_external_assets(path, role, client_as):
    client = client_as(role) if role else Client()
    html = client.get(path).content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not STYLE_ATTR.search(html)
    assert "<style" not in html
    assert not EXTERNAL.search(html)


# --- production settings ------------------------------------------------------------------


def _load_production(monkeypatch, **env):
    for name in ("TIPLAB_SECRET_KEY", "TIPLAB_SECRET_KEY_FILE", "TIPLAB_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "tiplab_web.settings.production", raising=False)
    return importlib.import_module("tiplab_web.settings.production")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "missing or a known default"),
        ({"TIPLAB_SECRET_KEY": "changeme"}, "missing or a known default"),
        ({"TIPLAB_SECRET_KEY": "django-insecure-" + "x" * 60}, "known default"),
        ({"TIPLAB_SECRET_KEY": "short-secret-123"}, "too short"),
        ({"TIPLAB_SECRET_KEY": "a" * 80}, "too short or too simple"),
        ({"TIPLAB_SECRET_KEY": GOOD_SECRET, "TIPLAB_DEBUG": "1"}, "never runs with DEBUG"),
        ({"TIPLAB_SECRET_KEY": GOOD_SECRET, "TIPLAB_SECRET_KEY_FILE": "/x"}, "not both"),
        ({"TIPLAB_SECRET_KEY_FILE": "/nonexistent/secret"}, "cannot be read"),
    ],
)
def test_production_refuses_insecure_configuration(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _load_production(monkeypatch, **env)


def test_production_reads_the_secret_from_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(GOOD_SECRET + "\n")
    # the secret passes; the next check (no allowed hosts in the test environment) stops it
    with pytest.raises(ImproperlyConfigured, match="TIPLAB_ALLOWED_HOSTS"):
        _load_production(monkeypatch, TIPLAB_SECRET_KEY_FILE=str(secret_file))


def _manage(*args: str, settings_module: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPLAB_", "DJANGO_"))}
    full_env.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "-m", "tiplab_web.manage", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_production_settings(tmp_path: Path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings_module="tiplab_web.settings.production",
        TIPLAB_SECRET_KEY=GOOD_SECRET,
        TIPLAB_ALLOWED_HOSTS="tiplab.example.org",
        TIPLAB_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_does_not_start_without_a_secret(tmp_path: Path):
    result = _manage(
        "check",
        settings_module="tiplab_web.settings.production",
        TIPLAB_ALLOWED_HOSTS="tiplab.example.org",
        TIPLAB_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: TIPLAB_SECRET_KEY is missing" in result.stderr
