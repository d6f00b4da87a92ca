"""Settings shared by every environment. Environment variables are read once, here."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from tiplab.config import data_dir
from tiplab_web.logs import logging_config


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None
    if value <= 0:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: expected a positive number")
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: expected a positive number, e.g. 1.0")
    return value


def _env_rate(name: str, default: tuple[int, int]) -> tuple[int, int]:
    """A rate limit "requests/seconds" from the environment, e.g. ``10/600``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        limit, window = (int(v) for v in raw.split("/"))
        if limit <= 0 or window <= 0:
            raise ValueError
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: expected requests/seconds, e.g. 10/600"
                                   ) from None
    return limit, window


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

SECRET_KEY = os.environ.get("TIPLAB_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = [h for h in os.environ.get("TIPLAB_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tiplab_web.core",
    "tiplab_web.accounts",
    "tiplab_web.audit",
    "tiplab_web.cases",
    "tiplab_web.linkage",
    "tiplab_web.estimates",
    "tiplab_web.insights",
    "tiplab_web.assessment",
    "tiplab_web.plans",
    "tiplab_web.consultations",
    "tiplab_web.groups",
    "tiplab_web.reporting",
    "tiplab_web.monitoring",
    "tiplab_web.evaluation",
    "tiplab_web.publications",
    "tiplab_web.evidence",
    "tiplab_web.screening",
    "django_tasks",
    "django_tasks_db",
    "tiplab_web.jobs",
]

MIDDLEWARE = [
    "tiplab_web.core.proxy.ProxyAddressMiddleware",
    # survivors' and reporters' routes: address, agent, referrer and cookies dropped before
    # anything reads them (tiplab_web.core.anonymous)
    "tiplab_web.core.anonymous.AnonymousRouteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # idle expiry with a session write a minute at most, not one per request
    "tiplab_web.core.sessions.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a signed-in user's chosen language, from their profile (tiplab_web.core.language)
    "tiplab_web.core.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tiplab_web.core.csp.ContentSecurityPolicyMiddleware",
    "tiplab_web.api_errors.ApiErrorMiddleware",
    "tiplab_web.accounts.middleware.TwoFactorRequiredMiddleware",
    # django-axes must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tiplab_web.urls"
# selects written in Python, every other widget by Django's templates (core/forms_renderer)
FORM_RENDERER = "tiplab_web.core.forms_renderer.FastSelectRenderer"
WSGI_APPLICATION = "tiplab_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tiplab_web.core.context_processors.shell",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("TIPLAB_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        from urllib.parse import unquote, urlparse

        u = urlparse(url)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(u.path.lstrip("/")),
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "",
            "PORT": str(u.port or ""),
            "CONN_MAX_AGE": 60,
            # a connection broken by a database restart is noticed and replaced at the
            # start of the next request (no web process restart needed)
            "CONN_HEALTH_CHECKS": True,
        }
    if url and not url.startswith("sqlite"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"TIPLAB_DATABASE_URL={url!r}: use postgresql://user:pass@host:port/db or leave "
            "it unset for SQLite under TIPLAB_DATA_DIR"
        )
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "tiplab.sqlite3",
        # one connection per worker thread, kept: opening one and running its PRAGMAs cost
        # a few milliseconds of every request (benchmarks/README.md, per-request CPU)
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            # page_size applies when the file is created (8 KiB pages: a slightly smaller file
            # and shorter checkpoints, benchmarks/bench_sqlite_loader.py); later it is a no-op
            # in WAL mode.
            "init_command": "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; "
                            "PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# django-axes first: it counts failures and refuses locked-out users before Django checks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: 5 failed logins for one username, or from one IP address, lock it for 15 minutes.
# The login rate limit (TIPLAB_RATE_LIMITS below) also caps POSTs per IP (docs/security.md).
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# One notion of the client's address for lockouts, rate limits and the audit log.
AXES_CLIENT_IP_CALLABLE = "tiplab_web.core.ratelimit.client_ip"
# Peers whose X-Forwarded-For is believed (tiplab_web.core.proxy): none when tiplab is
# reached directly; settings.production trusts the proxy on this host.
TIPLAB_TRUSTED_PROXIES: list[str] = [
    p for p in os.environ.get("TIPLAB_TRUSTED_PROXIES", "").split(",") if p.strip()]

# Sessions: cookie only over HTTP (never JS), SameSite=Lax, gone when the browser closes,
# and an idle timeout: the cookie age restarts on every request.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = _env_int("TIPLAB_SESSION_IDLE_MINUTES", 30) * 60
# the idle timeout counts from the last request: tiplab_web.core.sessions re-saves the
# session at most once a minute (SESSION_SAVE_EVERY_REQUEST would write on every request)
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# TOTP issuer shown in authenticator apps.
OTP_TOTP_ISSUER = "tiplab"
# Roles that must pass TOTP two-factor authentication before they see any page.
TIPLAB_TWO_FACTOR_ROLES = ("administrator", "data_steward")
# Minutes for which a re-entered password unlocks destructive and bulk-export actions.
TIPLAB_REAUTH_MINUTES = 10
# Days an invitation link stays valid.
TIPLAB_INVITATION_DAYS = 7
# Rate limits: (requests, window in seconds) per key (see tiplab_web.core.ratelimit).
TIPLAB_RATE_LIMITS = {
    "login": (20, 60),  # login POSTs per client IP
    "reauth": (10, 60),  # password confirmations per user
    "api_ip": (120, 60),  # API requests per client IP
    "api_token": (60, 60),  # API requests per token
    "password_reset": (5, 3600),  # reset requests per client IP, and per address asked for
    # anonymous routes (tiplab_web.core.anonymous): per client (a keyed hash of the address,
    # in memory only) and for everyone together (``_all``); "limit/seconds" in the environment
    "anon_submit": _env_rate("TIPLAB_ANON_SUBMIT_LIMIT", (10, 600)),
    "anon_submit_all": _env_rate("TIPLAB_ANON_SUBMIT_ALL_LIMIT", (600, 60)),
    "anon_receipt": _env_rate("TIPLAB_ANON_RECEIPT_LIMIT", (20, 600)),
    "anon_receipt_all": _env_rate("TIPLAB_ANON_RECEIPT_ALL_LIMIT", (600, 60)),
}
#: the paths whose visitors are never identified (tiplab_web.core.anonymous): survivors'
#: input through one-time codes, the safe reporting channel, and their style sheets and
#: scripts
TIPLAB_ANONYMOUS_PATHS = ("/voice/", "/report/", "/a/")
#: where the "Quick exit" button of those pages goes (an everyday site)
TIPLAB_QUICK_EXIT_URL = os.environ.get("TIPLAB_QUICK_EXIT_URL",
                                       "https://www.wikipedia.org/")
#: the onion address of this site, if it is also an onion service ("http://….onion"):
#: sent as Onion-Location on the anonymous pages so Tor Browser offers it
TIPLAB_ONION_LOCATION = os.environ.get("TIPLAB_ONION_LOCATION", "")
#: the safe reporting channel (docs/reporting.md): the numbers shown to someone in danger,
#: the largest attachment, the proof-of-work difficulty (0 = off: it needs JavaScript, which
#: Tor Browser's safest mode turns off), and whose data stewards triage the reports
TIPLAB_REPORT_EMERGENCY_NUMBERS = [("Emergency services (police, ambulance)", "112")]
TIPLAB_REPORT_ATTACHMENT_MB = _env_int("TIPLAB_REPORT_ATTACHMENT_MB", 5)
TIPLAB_REPORT_POW_BITS = int(os.environ.get("TIPLAB_REPORT_POW_BITS", "0") or 0)
TIPLAB_REPORTING_ORGANISATION_KINDS = ("coordinator",)
# Publication (tiplab_web.publications): the privacy budget of a new dataset's ledger (total
# epsilon and delta over all its releases, by basic composition), the k of k-anonymous
# microdata, the smallest count a published table without noise may show, and whether the
# steward who approves a release must be someone other than the analyst who prepared it.
TIPLAB_PRIVACY_EPSILON_CAP = _env_float("TIPLAB_PRIVACY_EPSILON_CAP", 4.0)
TIPLAB_PRIVACY_DELTA_CAP = _env_float("TIPLAB_PRIVACY_DELTA_CAP", 1e-6)
TIPLAB_RELEASE_K = _env_int("TIPLAB_RELEASE_K", 11)
TIPLAB_RELEASE_THRESHOLD = _env_int("TIPLAB_RELEASE_THRESHOLD", 5)
TIPLAB_RELEASE_FOUR_EYES = True
#: the country code in release identifiers (tiplab:<CODE>-<year>-<number>)
TIPLAB_RELEASE_PREFIX = os.environ.get("TIPLAB_RELEASE_PREFIX", "XT")
#: the country the releases are about, as briefs name it (default: the demo's simulated
#: country, else the publishing organisation's country)
TIPLAB_JURISDICTION = os.environ.get("TIPLAB_JURISDICTION", "")
#: seconds the public portal and open-data API may be cached by browsers and proxies
TIPLAB_PUBLIC_CACHE_SECONDS = _env_int("TIPLAB_PUBLIC_CACHE_SECONDS", 300)
# A password-reset link is valid this long (and once: it dies with the password it resets).
PASSWORD_RESET_TIMEOUT = _env_int("TIPLAB_PASSWORD_RESET_MINUTES", 30) * 60
# Audit log: install database triggers that refuse UPDATE and DELETE on audit entries.
TIPLAB_AUDIT_DB_TRIGGERS = True
# Content-Security-Policy sent on every response (tiplab_web.core.csp).
TIPLAB_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Background jobs (tiplab_web.jobs): Django's tasks API, database backend — the same
# database as everything else (SQLite embedded, PostgreSQL in production); workers run
# ``manage.py jobs_worker`` (``make run`` and ``tiplab-web serve`` start them).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
#: seconds without a heartbeat after which a running job's worker counts as lost
TIPLAB_JOBS_STALE_SECONDS = _env_int("TIPLAB_JOBS_STALE_SECONDS", 60)
TIPLAB_JOBS_HEARTBEAT_SECONDS = _env_int("TIPLAB_JOBS_HEARTBEAT_SECONDS", 5)
TIPLAB_JOBS_REAP_SECONDS = _env_int("TIPLAB_JOBS_REAP_SECONDS", 30)
#: attempts of a retry-safe job whose worker was lost before it is marked failed
TIPLAB_JOBS_MAX_ATTEMPTS = 3

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _env_lonlat(name: str) -> tuple[float, float] | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        lon, lat = (float(v) for v in raw.split(","))
    except ValueError:
        lon = lat = float("nan")
    if not (-180 <= lon <= 180 and -80 <= lat <= 80):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: expected 'longitude,latitude', e.g. "
                                   "'21.5,8.0' (longitude -180..180, latitude -80..80)")
    return lon, lat


#: where the demo's simulated country sits on the world map ("lon,lat"); unset: where the
#: simulator drew it (open ocean in the South Atlantic, touching no real country)
TIPLAB_DEMO_COUNTRY_ANCHOR = _env_lonlat("TIPLAB_DEMO_COUNTRY_ANCHOR")

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("TIPLAB_FROM_EMAIL", "tiplab@localhost")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
# dates: ISO in English (not the US order), local in French and Spanish (formats/en)
FORMAT_MODULE_PATH = ["tiplab_web.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
# Local runs and tests serve static files straight from the apps (no collectstatic needed);
# settings.production switches to hashed, compressed files made by ``collectstatic``.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"

# Logs go to standard error: as text by default, one JSON object per line with
# TIPLAB_LOG_FORMAT=json (settings.production's default; tiplab_web.logs).
TIPLAB_LOG_FORMAT = os.environ.get("TIPLAB_LOG_FORMAT", "text")
if TIPLAB_LOG_FORMAT not in ("text", "json"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"TIPLAB_LOG_FORMAT={TIPLAB_LOG_FORMAT!r}: use text or json")
LOGGING = logging_config(TIPLAB_LOG_FORMAT)
