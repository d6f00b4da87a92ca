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
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower())


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]  # Django calls this handler while handling the exception
    if database_unavailable(exc):
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith(API_PREFIX):
            return error_response(503, headers=headers)
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    else:
        if request.path.startswith(API_PREFIX):
            return error_response(500)
        response = HttpResponse(loader.get_template("500.html").render(), status=500)
        headers = {}
    for k, v in headers.items():
        response[k] = v
    return response
