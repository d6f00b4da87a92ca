from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tiplab_web.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from tiplab_web.accounts import panels_and_nav  # noqa: F401
