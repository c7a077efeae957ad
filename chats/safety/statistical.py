"""The statistical layer: a second opinion learnt from the labelled corpus, for wording no rule names.

A logistic regression, trained by `manage.py safety_model_train` on the tuning parts of the
labelled sets (never the held-out ones), over the words of the normalised message, each pair of
neighbouring words, and the character 3- and 4-grams inside each word, which survive typos,
missing accents and a language's endings where whole words do not. The trained weights are data,
`data/statistical_model.json`, with the hash of the corpus they came from, so the server reads
them without scikit-learn. A message is an emergency here when its score passes the threshold
the training chose by cross-validation on the tuning parts.
"""

import functools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

from chats.safety.text import text_normalise

MODEL_PATH = Path(__file__).resolve().parent / "data" / "statistical_model.json"
_WORD = re.compile(r"\w+")
CHARACTER_SIZES: tuple[int, ...] = (3, 4)


def features_of(normalised: str) -> set[str]:
    """The words of a normalised message, and each pair of neighbouring words.

    Training hands this to scikit-learn as the analyser, so the server reads a message exactly as
    the model was trained to.
    """
    words = _WORD.findall(normalised)
    return {*words, *(f"{first} {second}" for first, second in zip(words, words[1:], strict=False))}


def characters_of(normalised: str) -> set[str]:
    """The character n-grams of each word, the word padded with a space on either side."""
    return set().union(*map(_word_characters, set(_WORD.findall(normalised))))


# Parents' messages share most of their words, so each word's n-grams are worked out once. The
# cache is bounded, and its n-grams interned (words share most of theirs), so that a stream of
# made-up words costs a process a few megabytes at most.
@functools.lru_cache(maxsize=32_768)
def _word_characters(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(
        {
            sys.intern(padded[start : start + size])
            for size in CHARACTER_SIZES
            for start in range(len(padded) - size + 1)
        }
    )


def features_scale(features: Iterable[str]) -> float:
    """Each feature's value: presence, over the square root of how many of its kind the message has.

    Counted over every feature, not only those the model knows, so that the weights file needs
    no vocabulary beyond its weights.
    """
    count = len(set(features))
    return 1 / math.sqrt(count) if count else 0.0


@dataclass(frozen=True, slots=True)
class StatisticalModel:
    words: Mapping[str, float]
    characters: Mapping[str, float]
    intercept: float
    threshold: float

    def probability(self, *, text: str) -> float:
        normalised = text_normalise(text)
        score = self.intercept
        for features, weights in ((features_of(normalised), self.words), (characters_of(normalised), self.characters)):
            score += features_scale(features) * sum(map(weights.get, features, repeat(0.0)))
        return 1 / (1 + math.exp(-score))


@functools.cache
def statistical_model() -> StatisticalModel:
    with MODEL_PATH.open(encoding="utf-8") as file:
        data = json.load(file)
    return StatisticalModel(
        words=data["words"],
        characters=data["characters"],
        intercept=data["intercept"],
        threshold=data["threshold"],
    )


def statistical_emergency(*, text: str) -> bool:
    model = statistical_model()
    return model.probability(text=text) >= model.threshold
