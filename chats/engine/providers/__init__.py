"""The configured reply provider, chosen by settings.NORA_LLM_PROVIDER."""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from chats.engine.providers.base import (
    ModelEvent,
    PromptMessage,
    ReplyOpened,
    ReplyProvider,
    ReplyProviderError,
    ReplyUsage,
    TextDelta,
    TriageAnswer,
)

__all__ = [
    "ModelEvent",
    "ReplyOpened",
    "ReplyProvider",
    "ReplyProviderError",
    "ReplyUsage",
    "TextDelta",
    "TriageAnswer",
    "PromptMessage",
    "reply_provider",
]


@functools.cache
def reply_provider() -> ReplyProvider:
    return import_string(settings.NORA_REPLY_PROVIDERS[settings.NORA_LLM_PROVIDER])()


@receiver(setting_changed)
def _reply_provider_forget(*, setting: str, **kwargs: object) -> None:
    # A provider reads its key, URL and timeouts when it is built, so a changed
    # setting needs a fresh one rather than a stale client.
    if setting.startswith(("NORA_", "ANTHROPIC_")):
        reply_provider.cache_clear()
