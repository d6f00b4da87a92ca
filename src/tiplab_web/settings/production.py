"""Production settings: HTTPS only, secrets from the environment, refuses insecure values.

Required environment:

* ``TIPLAB_SECRET_KEY`` or ``TIPLAB_SECRET_KEY_FILE`` (a file holding it): at least 50
  characters, not a known default;
* ``TIPLAB_ALLOWED_HOSTS``: comma-separated host names;
* ``TIPLAB_DATABASE_URL`` (``postgresql://…``; SQLite under TIPLAB_DATA_DIR otherwise).

Optional (invitation mail): ``TIPLAB_SMTP_HOST``,
``TIPLAB_SMTP_PORT``, ``TIPLAB_SMTP_USER``, ``TIPLAB_SMTP_PASSWORD(_FILE)``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from tiplab_web.settings.base import *  # noqa: F403
from tiplab_web.settings.base import ALLOWED_HOSTS, DATA_DIR, _env_int

MIN_SECRET_LENGTH = 50
_KNOWN_BAD_SECRETS = {
    "",
    "changeme",
    "change-me",
    "secret",
    "django-insecure",
    "your-secret-key",
    "test-only-secret-key-not-for-production-0123456789abcdef",
}


def _read_secret(name: str) -> str:
    """``NAME`` from the environment, or the contents of the file named by ``NAME_FILE``."""
    value = os.environ.get(name, "")
    path = os.environ.get(name + "_FILE", "")
    if value and path:
        raise ImproperlyConfigured(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {e}") from e
    return value


def check_secret_key(secret: str) -> str:
    if secret.lower() in _KNOWN_BAD_SECRETS or secret.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "TIPLAB_SECRET_KEY is missing or a known default. Generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(64))"` and pass it '
            "as TIPLAB_SECRET_KEY or in a file named by TIPLAB_SECRET_KEY_FILE."
        )
    if len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 5:
        raise ImproperlyConfigured(
            f"TIPLAB_SECRET_KEY is too short or too simple ({len(secret)} characters); "
            f"use at least {MIN_SECRET_LENGTH} random characters."
        )
    return secret


SECRET_KEY = check_secret_key(_read_secret("TIPLAB_SECRET_KEY"))

DEBUG = False
if os.environ.get("TIPLAB_DEBUG", "").lower() in ("1", "true", "yes", "on"):
    raise ImproperlyConfigured(
        "TIPLAB_DEBUG is on: production never runs with DEBUG. "
        "Use tiplab_web.settings.dev for local work."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "TIPLAB_ALLOWED_HOSTS is empty: set the host names this "
        "server answers to, comma-separated (e.g. tiplab.example.org)."
    )

# HTTPS everywhere.
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Secure-tiplab-session"
CSRF_COOKIE_NAME = "__Secure-tiplab-csrf"
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")]

# Hashed, compressed static files from `collectstatic`.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# A cache shared by all worker processes on this host, for rate limits.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

# Mail: SMTP (invitations).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("TIPLAB_SMTP_HOST", "localhost")
EMAIL_PORT = _env_int("TIPLAB_SMTP_PORT", 587)
EMAIL_HOST_USER = os.environ.get("TIPLAB_SMTP_USER", "")
EMAIL_HOST_PASSWORD = _read_secret("TIPLAB_SMTP_PASSWORD")
EMAIL_USE_TLS = True

TIPLAB_AUDIT_DB_TRIGGERS = True

# Structured logs unless told otherwise (TIPLAB_LOG_FORMAT=text).
if not os.environ.get("TIPLAB_LOG_FORMAT"):
    from tiplab_web.logs import logging_config

    TIPLAB_LOG_FORMAT = "json"
    LOGGING = logging_config("json")

# The TLS proxy runs on this host (docs/deploy.md): its X-Forwarded-For names the client.
if not os.environ.get("TIPLAB_TRUSTED_PROXIES"):
    TIPLAB_TRUSTED_PROXIES = ["127.0.0.1", "::1"]

# Health checks come from the proxy or a load balancer over plain HTTP on the host itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
