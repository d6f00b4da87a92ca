"""Settings for ``make run``: local, HTTP on 127.0.0.1, SQLite under TIPLAB_DATA_DIR."""

from __future__ import annotations

from tiplab.keys import load_or_create_secret
from tiplab_web.settings.base import *  # noqa: F403
from tiplab_web.settings.base import DATA_DIR

SECRET_KEY = load_or_create_secret(DATA_DIR / "keys" / "django-secret-key")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns if missing
