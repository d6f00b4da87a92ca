"""The one export helper: audited first, an attachment with a safe name, never cached."""

from __future__ import annotations

from django.test import RequestFactory

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.exports import JSON, download


def _request(world):
    request = RequestFactory().get("/x", REMOTE_ADDR="10.0.0.9")
    request.user = world.users["analyst"]
    return request


def test_a_download_is_audited_named_and_not_cached(world):
    response = download(_request(world), "a,b\n1,2\n", filename="tiplab-trends-dv-1.csv",
                        action="insights.export", page="trends", rows=1)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tiplab-trends-dv-1.csv"'
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="insights.export")
    assert entry.details == {"file": "tiplab-trends-dv-1.csv", "page": "trends", "rows": 1}
    assert entry.ip_address == "10.0.0.9"


def test_streamed_bodies_and_unusual_names_are_safe(world):
    response = download(_request(world), iter(["x\n", "y\n"]), filename='Zoë "report".json',
                        content_type=JSON, action="estimates.download")
    assert response.streaming
    assert b"".join(response.streaming_content) == b"x\ny\n"
    header = response["Content-Disposition"]
    assert header.startswith("attachment; filename*=utf-8''")  # RFC 6266, quoted
    assert '"report"' not in header
