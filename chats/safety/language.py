"""Which language a message is written in, so that what Nora says first is in it too."""

import functools

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# The languages told apart: those a notice is written in, and others parents write in, so that
# a German or Tagalog message is not taken for the nearest of those and answered in it.
DETECTED_LANGUAGES = ("en", "es", "fr", "pt", "pl", "ar", "zh", "de", "it", "tl", "vi")


@functools.cache
def _detector() -> LanguageDetector:
    # Low-accuracy mode reads trigrams only: against the full models, a seventh of the CPU and of
    # the memory, for about one message in a hundred more taken for another language (measured
    # on the labelled corpus's tuning part). A profile's language, when set, is used instead.
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in DETECTED_LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def language_detect(*, text: str) -> str | None:
    """The message's language as ISO 639-1, or None when it cannot be told."""
    language = _detector().detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language is not None else None
