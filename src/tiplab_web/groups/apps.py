from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def overdue_context(request: Any) -> dict[str, Any]:
    """The overdue action items the user may see (the ten most overdue) and how many."""
    from .services import today, visible_overdue

    day = today()
    items = visible_overdue(request.user, day)
    return {"items": [{"a": a, "days": (day - a.due).days} for a in items[:10]],
            "total": items.count()}


class GroupsConfig(AppConfig):
    name = "tiplab_web.groups"
    label = "groups"
    verbose_name = "Working groups and advisory boards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        nav.register(nav.NavItem(key="groups", label=_("Working groups"),
                                 url_name="groups:index", capability="groups.view", order=95,
                                 also=("groups:*",)))
        panels.register(panels.Panel(
            key="overdue_actions", title=_("Overdue action items"),
            template="groups/panels/overdue.html", capability="groups.view",
            context=overdue_context, order=95))
