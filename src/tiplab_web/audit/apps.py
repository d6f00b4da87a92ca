from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tiplab_web.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from tiplab_web.audit import panels_and_nav, signals  # noqa: F401
