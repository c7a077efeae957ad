from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_string


class ChatsConfig(AppConfig):
    name = "chats"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import the reply provider's SDK at start-up: imported on the first reply instead, it
        # would hold the event loop for seconds while every other stream and socket waits.
        import_string(settings.NORA_REPLY_PROVIDERS[settings.NORA_LLM_PROVIDER])
