"""One way out for every file a user downloads (CSV of rejects, analyses, the audit log, an
estimate's JSON): audited before a byte is sent, as an attachment with a safe file name,
never kept by a shared cache. Views call :func:`download` instead of building responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from tiplab_web import audit

CSV = "text/csv; charset=utf-8"
JSON = "application/json"


def download(request: HttpRequest, body: str | bytes | Iterable[Any], *, filename: str,
             action: str, obj: Any = None, content_type: str = CSV,
             **details: Any) -> HttpResponse:
    """``body`` (text, bytes, or an iterable streamed as it is produced) as a download
    named ``filename``; the audit entry ``action`` on ``obj`` with ``details`` comes first."""
    audit.record(request, action, obj, file=filename, **details)
    if isinstance(body, str | bytes):
        response: HttpResponse = HttpResponse(body, content_type=content_type)
    else:
        response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response
