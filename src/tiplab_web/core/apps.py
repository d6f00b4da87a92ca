from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tiplab_web.core"
    label = "core"
    verbose_name = _("Platform shell")

    def ready(self) -> None:
        from tiplab_web.core import nav

        nav.register(
            nav.NavItem(
                key="home",
                label=_("Home"),
                url_name="core:home",
                capability="dashboard.view",
                order=0,
            )
        )
