from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NoraConfig(AppConfig):
    """The project package as an app, so its system checks are registered."""

    name = "nora"

    def ready(self) -> None:
        from nora.server import checks  # noqa: F401  (registers them)


class NoraAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on Nora's site (its header and titles)."""

    default = False
    default_site = "nora.admin.NoraAdminSite"
