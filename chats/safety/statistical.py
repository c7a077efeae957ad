"""The statistical layer: a second opinion learnt from the labelled corpus, for wording no rule names.

A logistic regression over the words and word pairs of the normalised message, trained by
`manage.py safety_model_train` on the tuning parts of the labelled sets (never the held-out
ones). The trained weights are data, `data/statistical_model.json`, with the hash of the corpus
they came from, so the server reads them without scikit-learn. A message is an emergency here
when its score passes the threshold the training chose by cross-validation on the tuning parts.
"""

import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chats.safety.text import text_normalise

MODEL_PATH = Path(__file__).resolve().parent / "data" / "statistical_model.json"
_WORD = re.compile(r"\w+")


def features_of(normalised: str) -> set[str]:
    """What the model reads of a normalised message: its words, and each pair of neighbouring words.

    Training hands this to scikit-learn as the analyser, so the server reads a message exactly as
    the model was trained to.
    """
    words = _WORD.findall(normalised)
    return {*words, *(f"{first} {second}" for first, second in zip(words, words[1:], strict=False))}


def features_scale(features: Iterable[str]) -> float:
    """Each feature's value: presence, over the square root of how many the message has.

    Counted over every feature, not only those the model knows, so that the weights file needs
    no vocabulary beyond its weights.
    """
    count = len(set(features))
    return 1 / math.sqrt(count) if count else 0.0


@dataclass(frozen=True, slots=True)
class StatisticalModel:
    weights: dict[str, float]
    intercept: float
    threshold: float

    def probability(self, *, text: str) -> float:
        features = features_of(text_normalise(text))
        scale = features_scale(features)
        score = self.intercept + scale * sum(self.weights.get(feature, 0.0) for feature in features)
        return 1 / (1 + math.exp(-score))


@functools.cache
def statistical_model() -> StatisticalModel:
    with MODEL_PATH.open(encoding="utf-8") as file:
        data = json.load(file)
    return StatisticalModel(weights=data["weights"], intercept=data["intercept"], threshold=data["threshold"])


def statistical_emergency(*, text: str) -> bool:
    model = statistical_model()
    return model.probability(text=text) >= model.threshold
