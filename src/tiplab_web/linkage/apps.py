from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_run_context(request: Any) -> dict[str, Any]:
    from .access import runs_for

    # the columns the panel shows, not the run's large JSON (quality, timings, patterns)
    return {"run": runs_for(request.user).filter(status="done")
            .only("id", "records", "persons", "settings", "created_at").first()}


class LinkageConfig(AppConfig):
    name = "tiplab_web.linkage"
    label = "linkage"
    verbose_name = "Record linkage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        from .services import register_jobs

        register_jobs()

        nav.register(nav.NavItem(key="linkage", label=_("Linkage"), url_name="linkage:runs",
                                 capability="linkage.run", order=30, also=("linkage:*",)))
        panels.register(panels.Panel(
            key="latest_link_run", title=_("Latest record linkage"),
            template="linkage/panels/latest_run.html", capability="linkage.run",
            context=latest_run_context, order=35))
