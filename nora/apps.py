from django.apps import AppConfig


class NoraConfig(AppConfig):
    """The project package as an app, so its system checks are registered."""

    name = "nora"

    def ready(self) -> None:
        from nora import checks  # noqa: F401  (registers them)
