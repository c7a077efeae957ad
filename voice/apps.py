from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_string


class VoiceConfig(AppConfig):
    name = "voice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import the speech provider's SDK at start-up rather than inside the first socket's turn.
        import_string(settings.NORA_STT_PROVIDERS[settings.NORA_STT_PROVIDER])
