"""Settings for the test suite: SQLite (or PostgreSQL when TIPLAB_DATABASE_URL says so)."""

from __future__ import annotations

import os
import tempfile

# Each pytest-xdist worker gets its own data directory (keys, snapshot, uploads): workers
# share the parent that `make test` makes, and two of them writing the same file would race.
_base = os.environ.get("TIPLAB_DATA_DIR") or tempfile.mkdtemp(prefix="tiplab-test-")
os.environ["TIPLAB_DATA_DIR"] = os.path.join(_base, os.environ.get("PYTEST_XDIST_WORKER",
                                                                   "main"))
os.makedirs(os.environ["TIPLAB_DATA_DIR"], exist_ok=True)

from tiplab_web.settings.base import *  # noqa: E402,F403

SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only

# Django's test flush deletes every row between transactional tests, which the audit
# triggers would refuse; tests that check the triggers install them themselves.
TIPLAB_AUDIT_DB_TRIGGERS = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Jobs run inside the request (the test's transaction is invisible to a worker process);
# tests of workers, faults and the production server start real processes themselves.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns if missing

# A second database for the tests marked `postgres` (CI sets the URL; .ci/run starts a server).
_pg_url = os.environ.get("TIPLAB_TEST_POSTGRES_URL", "")
if _pg_url:
    from urllib.parse import unquote, urlparse

    _u = urlparse(_pg_url)
    DATABASES["postgres"] = {  # noqa: F405
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(_u.path.lstrip("/")) or "test",
        "USER": unquote(_u.username or ""),
        "PASSWORD": unquote(_u.password or ""),
        "HOST": _u.hostname or "127.0.0.1",
        "PORT": str(_u.port or 5432),
        "TEST": {"NAME": "test_tiplab_" + os.environ.get("PYTEST_XDIST_WORKER", "main")},
    }
