"""The configured speech-to-text provider, chosen by settings.NORA_STT_PROVIDER."""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from voice.stt.base import AudioFormat, PartialHandler, SpeechToText, SpeechToTextError, TranscriptionSession

__all__ = [
    "AudioFormat",
    "PartialHandler",
    "SpeechToText",
    "SpeechToTextError",
    "TranscriptionSession",
    "speech_to_text",
]


@functools.cache
def speech_to_text() -> SpeechToText:
    return import_string(settings.NORA_STT_PROVIDERS[settings.NORA_STT_PROVIDER])()


@receiver(setting_changed)
def _speech_to_text_forget(*, setting: str, **kwargs: object) -> None:
    # A provider keeps clients built from the key and URL it first saw, so a changed
    # setting needs a fresh one.
    if setting.startswith(("NORA_STT_", "DEEPGRAM_")):
        speech_to_text.cache_clear()
