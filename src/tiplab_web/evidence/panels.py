"""Dashboard panel: interview notes, those waiting for coding, suggestions to decide."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def context(request: HttpRequest) -> dict[str, Any]:
    from . import services
    from .models import Suggestion

    notes = services.notes_for(request.user)
    return {"notes": notes.count(),
            "uncoded": notes.filter(codings__isnull=True).distinct().count(),
            "pending": Suggestion.objects.filter(note__in=notes, status="pending").count()}


def register() -> None:
    from tiplab_web.core import panels

    panels.register(panels.Panel(
        key="evidence", title=_("Interview notes"), template="evidence/panel.html",
        capability="evidence.view", context=context, order=85))
