from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tiplab_web.cases"
    label = "cases"
    verbose_name = "Case data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import jobs, panels, review  # jobs, review: register their job kinds

        panels.register()
        del jobs, review
