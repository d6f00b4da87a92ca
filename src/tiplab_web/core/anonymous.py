"""The anonymous routes: survivors' input (``/voice/``) and the safe reporting channel
(``/report/``). Nobody who uses them may be identified or tracked, so for every path under
``settings.TIPLAB_ANONYMOUS_PATHS``:

* :class:`AnonymousRouteMiddleware` (placed right after the proxy middleware, before anything
  else reads the request) removes the client's address, user agent, referrer, forwarded
  headers and cookies from ``request.META``. ``request.META`` *is* the WSGI environ, so the web
  server's access log (gunicorn reads ``REMOTE_ADDR``, ``HTTP_USER_AGENT`` and
  ``HTTP_REFERER`` from it after the response) records ``-`` for them too, and audit entries
  written during the request carry no address. The address is turned first into
  ``request.anonymous_client``: an HMAC of it under a random per-process secret, kept in memory
  only, used by the rate limits and nothing else.
* On the way out it drops every ``Set-Cookie`` (session, CSRF, language: the forms need none —
  :func:`anonymous_view` exempts them from CSRF, which protects sessions that these routes do
  not have) and adds ``Cache-Control: no-store`` (nothing left in the browser's cache) and
  ``Referrer-Policy: no-referrer`` (a link followed from these pages does not tell the next
  site where the visitor came from).
* :class:`AnonymousLogFilter`, installed on every log handler (``tiplab_web.logs``), blanks the
  address, agent and referrer of any log record about such a request that still carries them
  (defence in depth: Django's development server and error logs attach the request).

Language: from ``?lang=`` or a ``lang`` form field (en, fr, es), else the browser's
Accept-Language — never a cookie.

Style sheets and scripts of these pages are served under ``/a/`` (:func:`asset`, an anonymous
prefix too), not ``/static/``: a browser fetches them right after the page, and a request for
``/static/...`` would be logged with the address the page itself kept out of the logs. The
pages declare an empty icon for the same reason (no ``/favicon.ico`` request).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from tiplab_web.core import ratelimit

#: request headers that identify or fingerprint the visitor, removed on anonymous routes
STRIPPED = ("REMOTE_ADDR", "REMOTE_HOST", "HTTP_USER_AGENT", "HTTP_REFERER",
            "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CLIENT_IP",
            "HTTP_TRUE_CLIENT_IP", "HTTP_CF_CONNECTING_IP", "HTTP_COOKIE", "HTTP_VIA",
            "HTTP_FROM", "HTTP_DNT", "HTTP_SEC_CH_UA", "HTTP_SEC_CH_UA_PLATFORM",
            "HTTP_SEC_CH_UA_MOBILE")

#: drawn once per process (in gunicorn's master, before the workers fork): the keyed hash of
#: an address cannot be reversed without it, and it is never written anywhere
_SECRET = secrets.token_bytes(32)


def prefixes() -> tuple[str, ...]:
    return tuple(getattr(settings, "TIPLAB_ANONYMOUS_PATHS", ()))


def is_anonymous_path(path: str) -> bool:
    """``path`` is under an anonymous prefix (``/voice`` without its slash included: the
    redirect to ``/voice/`` must not log the address either)."""
    if not path:
        return False
    return any(path.startswith(p) or path == p.rstrip("/") for p in prefixes())


def client_token(address: str) -> str:
    """The opaque rate-limit key of a client address (empty address: one shared key)."""
    return hmac.new(_SECRET, address.encode(), hashlib.sha256).hexdigest()[:32]


class AnonymousRouteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_anonymous_path(request.path_info):
            return self.get_response(request)
        meta = request.META
        request.anonymous_client = client_token(str(meta.get("REMOTE_ADDR", "")))  # type: ignore[attr-defined]
        for key in STRIPPED:
            meta.pop(key, None)
        # the cookies parsed before this point (none should be) are forgotten as well
        request.COOKIES = {}
        response = self.get_response(request)
        response.cookies.clear()
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        onion = getattr(settings, "TIPLAB_ONION_LOCATION", "")
        if onion:
            response["Onion-Location"] = onion.rstrip("/") + request.path
        return response


def language_of(request: HttpRequest) -> str:
    """en, fr or es: the ``lang`` query or form field, else the browser's preference."""
    codes = {code for code, _name in settings.LANGUAGES}
    asked = request.POST.get("lang") if request.method == "POST" else None
    asked = asked or request.GET.get("lang")
    if asked in codes:
        return str(asked)
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def anonymous_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for the views of anonymous routes: no CSRF cookie (there is no session to
    protect), never cached, the page in the visitor's chosen language, and a rate limit hit
    shown as the 429 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_anonymous_path(request.path_info):
            raise RuntimeError(f"{view.__name__} is an anonymous view served at "
                               f"{request.path_info}, outside TIPLAB_ANONYMOUS_PATHS")
        lang = language_of(request)
        request.anonymous_lang = lang  # type: ignore[attr-defined]
        with translation.override(lang):
            try:
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
            except ratelimit.RateLimited as exc:
                from django.shortcuts import render

                response = render(request, "core/anonymous_busy.html",
                                  {"retry_after": exc.retry_after}, status=429)
                response["Retry-After"] = str(exc.retry_after)
        response["Content-Language"] = lang
        return response

    return csrf_exempt(never_cache(wrapper))


def rate_limit(request: HttpRequest, bucket: str) -> None:
    """Count one use of ``bucket`` for this client and for everyone (``<bucket>_all``);
    raises :class:`~tiplab_web.core.ratelimit.RateLimited` past either limit. Over Tor every
    visitor arrives from the local relay, so the global limit is the one that holds there."""
    token = getattr(request, "anonymous_client", None) or client_token("")
    ratelimit.check(bucket, token)
    if f"{bucket}_all" in settings.TIPLAB_RATE_LIMITS:
        ratelimit.check(f"{bucket}_all", "all")


#: the files the anonymous pages use (name in ``/a/<name>`` -> static path)
ASSETS = {
    "tiplab.css": "tiplab/tiplab.css",
    "anonymous.css": "tiplab/anonymous.css",
    "quick_exit.js": "tiplab/quick_exit.js",
    "voice.js": "consultations/voice.js",
    "pow.js": "reporting/pow.js",
}
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@anonymous_view
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """One of :data:`ASSETS`, from the static files (never cached: a cached file is a trace
    of the visit on the device)."""
    from pathlib import Path

    from django.contrib.staticfiles import finders
    from django.http import Http404

    rel = ASSETS.get(name)
    found = finders.find(rel) if rel else None
    if not found:
        raise Http404
    path = Path(str(found))
    return HttpResponse(path.read_bytes(), content_type=_TYPES[path.suffix])


class AnonymousLogFilter(logging.Filter):
    """Blank the client's address, agent and referrer in log records about anonymous routes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            path = str(record.args.get("U", ""))
            if is_anonymous_path(path):
                args = dict(record.args)
                for atom in ("h", "a", "f", "{x-forwarded-for}i", "{user-agent}i",
                             "{referer}i"):
                    if atom in args:
                        args[atom] = "-"
                record.args = args
            return True
        request = getattr(record, "request", None)
        if request is None:
            return True
        path = getattr(request, "path_info", None)
        if path is None and record.name == "django.server" and record.args:
            # the development server's request line: "GET /voice/ HTTP/1.1"
            parts = str(record.args[0]).split(" ") if isinstance(record.args, tuple) else []
            path = parts[1] if len(parts) > 1 else ""
        if path and is_anonymous_path(str(path)):
            record.request = None
        return True
