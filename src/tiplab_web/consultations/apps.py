from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def work_context(request: Any) -> dict[str, Any]:
    """The drafting team's work: anonymous input to review, contributions to answer."""
    from django.db.models import Count, Q

    from tiplab_web.core.access import can, organisation_of

    from . import services
    from .models import Consultation

    org = organisation_of(request.user)
    if org is None:
        return {"pending": 0, "rows": []}
    pending = services.review_queue(org).count() if can(request.user, "voice.review") else 0
    rows = [{"c": c, "unanswered": c.unanswered} for c in Consultation.objects.filter(
        organisation=org).annotate(unanswered=Count("contributions", filter=Q(
            contributions__hidden=False, contributions__response__isnull=True)
            & ~Q(contributions__kind="reply"))).filter(unanswered__gt=0).order_by(
        "closes_on")[:8]]
    return {"pending": pending, "rows": rows}


class ConsultationsConfig(AppConfig):
    name = "tiplab_web.consultations"
    label = "consultations"
    verbose_name = "Consultations and survivors' voice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        nav.register(nav.NavItem(key="consultations", label=_("Consultations"),
                                 url_name="consultations:index",
                                 capability="consultations.view", order=92,
                                 also=("consultations:*",)))
        panels.register(panels.Panel(
            key="consultation_work", title=_("Consultations: what waits for you"),
            template="consultations/panels/work.html", capability="consultations.manage",
            context=work_context, order=92))
