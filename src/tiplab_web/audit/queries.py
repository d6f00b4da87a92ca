"""Searching the audit log (the page and the CSV export share one filter)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tiplab_web.audit.models import AuditEntry


def search(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all().order_by("-id")
    if filters.get("user"):
        qs = qs.filter(actor_username__iexact=filters["user"])
    action = filters.get("action")
    if action:
        qs = (
            qs.filter(action__startswith=action)
            if action.endswith(".")
            else qs.filter(action=action)
        )
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        qs = qs.filter(object_id=filters["object_id"])
    tz = timezone.get_current_timezone()
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=datetime.combine(filters["date_from"], time.min, tz))
    if filters.get("date_to"):
        end = datetime.combine(filters["date_to"], time.min, tz) + timedelta(days=1)
        qs = qs.filter(created_at__lt=end)
    return qs
