from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tiplab_web.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tiplab_web.accounts import panels_and_nav  # noqa: F401
        from tiplab_web.accounts.security import record_sign_in

        def on_sign_in(sender: object, request: object, user: object, **kwargs: object) -> None:
            if request is not None and hasattr(request, "session"):
                record_sign_in(request, user)

        user_logged_in.connect(on_sign_in, weak=False, dispatch_uid="tiplab-record-session")
