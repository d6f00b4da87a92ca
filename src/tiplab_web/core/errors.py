"""The server-error handler (``handler500``): a database that is down or restarting is a
503 with ``Retry-After`` (in the API's error shape under ``/api/``), not a 500 — the request
changed nothing (its transaction rolled back) and the same request will work again once the
database is back. Django reconnects by itself on the next request (``CONN_HEALTH_CHECKS``)."""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template import loader

from tiplab_web.api_errors import API_PREFIX, error_response

RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc``, or an exception it was raised while handling, says the database
    cannot be reached (a session that could not be saved because the connection dropped
    surfaces as Django's ``SessionInterrupted``, with the database error as its context)."""
    from django.db import InterfaceError, OperationalError

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError) or (
                isinstance(exc, DatabaseError) and "connection" in str(exc).lower()):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _unavailable(request: HttpRequest) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith(API_PREFIX):
        return error_response(503, headers=headers)
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = headers["Retry-After"]
    return response


def bad_request(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """``handler400``: Django's answer, unless the cause was the database going away."""
    from django.views.defaults import bad_request as default

    if database_unavailable(exception):
        return _unavailable(request)
    return default(request, exception)


def _anonymous_page(request: HttpRequest, status: int) -> HttpResponse:
    """The error page of an anonymous route: its own shell (no /static/ request, no cookie,
    the quick exit), so an error page leaks nothing the route itself keeps out."""
    from django.shortcuts import render

    return render(request, "core/anonymous_error.html", {"status": status}, status=status)


def page_not_found(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """``handler404``: Django's page, or the anonymous routes' own."""
    from django.views.defaults import page_not_found as default

    from tiplab_web.core.anonymous import is_anonymous_path

    if is_anonymous_path(request.path_info):
        return _anonymous_page(request, 404)
    return default(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]  # Django calls this handler while handling the exception
    if database_unavailable(exc):
        return _unavailable(request)
    from tiplab_web.core.anonymous import is_anonymous_path

    if is_anonymous_path(request.path_info):
        return _anonymous_page(request, 500)
    if request.path.startswith(API_PREFIX):
        return error_response(500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
