"""The audit app's menu entry and its dashboard panel ("your recent activity")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core import nav, panels


def recent_activity(request: HttpRequest) -> dict[str, Any]:
    entries = AuditEntry.objects.filter(actor_id=request.user.pk).order_by("-id")[:8]
    return {"entries": list(entries)}


nav.register(
    nav.NavItem(
        key="audit", label=_("Audit log"), url_name="audit:log", capability="audit.view", order=900,
        also=("audit:*",),
    )
)
panels.register(
    panels.Panel(
        key="recent_activity",
        title=_("Your recent activity"),
        template="audit/panels/recent_activity.html",
        capability="dashboard.view",
        context=recent_activity,
        order=900,
    )
)
