"""How the triage's layers read a message: one normalising, one sentence splitter, one phrase syntax.

Phrases in the data files are written in lower case; a word ending in "*" stands for every word
it begins, "~" for up to three words in between, "#" for a number. Accents are stripped from
them as from the message.
"""

import functools
import re
import unicodedata

from text_to_num import alpha2digit

# The languages whose numbers in words become digits (text2num reads these): the ones the triage
# reads in full. Each more costs a pass over the message.
NUMBER_WORD_LANGUAGES = ("en", "es")

_COMBINING = re.compile(r"[\u0300-\u036f]")
# Digits of the scripts parents write in, as ASCII ("١٦٥" is 165): Arabic-Indic, Persian, Devanagari, full-width.
_DIGITS = str.maketrans(
    {chr(start + digit): str(digit) for start in (0x0660, 0x06F0, 0x0966, 0xFF10) for digit in range(10)}
)
_SENTENCE_END = re.compile(r"[!?;\n¿¡。！？]+|\.+(?:\s|$)|\s[|]\s")


# The layers read the same message one after the other: it is normalised once.
@functools.lru_cache(maxsize=16)
def text_normalise(text: str) -> str:
    """Lower case, no accents, numbers in digits, a decimal comma as a point, spaces folded."""
    text = text.lower()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).translate(_DIGITS)
    for language in NUMBER_WORD_LANGUAGES:
        text = alpha2digit(text, language)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)
    # "38 and a half", "38 y medio".
    text = re.sub(r"(\d+) (?:and a half|y medio|y media)\b", r"\1.5", text)
    return re.sub(r"\s+", " ", text)


def sentences_split(text: str) -> list[str]:
    """A normalised message's sentences; a full stop between digits ("38.5") ends none."""
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def is_cjk(char: str) -> bool:
    return bool(char) and "\u4e00" <= char <= "\u9fff"


def phrase_body(phrase: str) -> str:
    """A phrase as a regular expression, unbounded."""
    parts = []
    for token in text_normalise(phrase).split(" "):
        if token == "~":
            parts.append(r"(?:\S+ ){0,3}?")
        elif token == "#":
            parts.append(r"\d+ ")
        elif token.endswith("*"):
            parts.append(re.escape(token[:-1]) + r"\w* ")
        else:
            parts.append(re.escape(token) + " ")
    return "".join(parts)[:-1]  # without the last space


def phrase_pattern(phrase: str) -> str:
    """A phrase's expression, bounded at whole words where the script has spaces (Chinese has none)."""
    pattern = phrase_body(phrase)
    if not is_cjk(phrase[:1]):
        pattern = rf"(?<!\w){pattern}"
    if not is_cjk(phrase[-1:]) and not phrase.endswith("*"):
        pattern = rf"{pattern}(?!\w)"
    return pattern


def any_of(phrases: list[str]) -> str:
    """An unbounded expression for any of `phrases`, the longest tried first."""
    return "(?:" + "|".join(phrase_body(phrase) for phrase in sorted(phrases, key=len, reverse=True)) + ")"
