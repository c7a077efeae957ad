"""Trains the safety triage's statistical layer and writes its weights (chats/safety/data/statistical_model.json)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chats.safety.classifier import HAND_WRITTEN_LAYERS, message_classify
from chats.safety.evaluation import training_examples, training_hash
from chats.safety.statistical import MODEL_PATH, characters_of, features_of, features_scale
from chats.safety.text import text_normalise

# What cross-validation on the tuning parts chooses between (OperatingPoint says how).
REGULARISATION = (16.0, 64.0)
THRESHOLDS = tuple(step / 100 for step in range(10, 91, 2))
FOLDS = 5
SEED = 0
# A character n-gram is learnt only when this many messages hold it: rarer ones are noise.
CHARACTER_MIN_MESSAGES = 2
# Weights smaller than this change no decision and only make the file longer.
WEIGHT_FLOOR = 0.01


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """All layers together, in cross-validation, at one regularisation and threshold."""

    regularisation: float
    threshold: float
    recall: float
    false_alarms: float

    @property
    def gain(self) -> float:
        """Recall minus the false-alarm rate (Youden's J)."""
        return self.recall - self.false_alarms


def operating_point_choose(points: Iterable[OperatingPoint]) -> OperatingPoint:
    """The point that catches the most emergencies for the false alarms it costs: the greatest gain.

    Past it, each point of recall costs more than a point of false alarms; short of it,
    emergencies are missed that would cost less than that to catch. Of equal gains, the first.
    """
    return max(points, key=lambda point: point.gain)


class Command(BaseCommand):
    help = (
        "Train the statistical layer of the safety triage on the tuning parts of the labelled sets (never the "
        "held-out parts) and write its weights, with the hash of the corpus they came from. Needs scikit-learn "
        "(requirements-dev.txt); the same corpus always gives the same file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=MODEL_PATH, help="Where to write the weights.")

    def handle(self, *args, output: Path, verbosity: int, **options) -> None:
        try:
            import numpy as np
            import sklearn
            from scipy.sparse import diags, hstack
            from sklearn.feature_extraction.text import CountVectorizer
            from sklearn.linear_model import LogisticRegression
            from sklearn.model_selection import StratifiedKFold
        except ImportError as error:
            raise CommandError(
                "Training needs scikit-learn: pip install -r requirements-dev.txt, then run this again."
            ) from error

        examples = training_examples()
        texts = [text_normalise(text) for text, _ in examples]
        labels = np.array([emergency for _, emergency in examples])
        hand_written = [message_classify(text=text, layers=HAND_WRITTEN_LAYERS) for text, _ in examples]
        offline = np.array([classification.is_emergency for classification in hand_written])
        # The layer is asked only where the classifier would ask it.
        consulted = np.array([classification.statistical_consulted for classification in hand_written])
        analysers = {"words": (features_of, 1), "characters": (characters_of, CHARACTER_MIN_MESSAGES)}

        def fit(rows, regularisation):
            vectorizers = {
                name: CountVectorizer(analyzer=analyser, binary=True, min_df=min_df).fit([texts[i] for i in rows])
                for name, (analyser, min_df) in analysers.items()
            }
            model = LogisticRegression(C=regularisation, max_iter=5000, class_weight="balanced")
            return vectorizers, model.fit(matrix(vectorizers, rows), labels[rows])

        def matrix(vectorizers, rows):
            subset = [texts[i] for i in rows]
            blocks = [
                diags([features_scale(analysers[name][0](text)) for text in subset]) @ vectorizer.transform(subset)
                for name, vectorizer in vectorizers.items()
            ]
            return hstack(blocks).tocsr()

        folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(texts, labels))
        points = []
        for regularisation in REGULARISATION:
            probabilities = np.zeros(len(texts))
            for train, test in folds:
                vectorizers, model = fit(train, regularisation)
                probabilities[test] = model.predict_proba(matrix(vectorizers, test))[:, 1]
            for threshold in THRESHOLDS:
                flagged = offline | ((probabilities >= threshold) & consulted)
                points.append(
                    OperatingPoint(
                        regularisation=regularisation,
                        threshold=threshold,
                        recall=float(flagged[labels].mean()),
                        false_alarms=float(flagged[~labels].mean()),
                    )
                )
                if verbosity > 1:
                    self.stdout.write(
                        f"  C={regularisation:g} threshold {threshold}: {points[-1].recall:.1%} recall, "
                        f"{points[-1].false_alarms:.1%} false alarms"
                    )
        chosen = operating_point_choose(points)
        regularisation, threshold = chosen.regularisation, chosen.threshold
        self.stdout.write(f"Cross-validation: {chosen.recall:.1%} recall, {chosen.false_alarms:.1%} false alarms.")

        everything = np.arange(len(texts))
        vectorizers, model = fit(everything, regularisation)
        coefficients = iter(model.coef_[0])

        def weights_of(names) -> dict[str, float]:
            weights = {name: round(float(next(coefficients)), 4) for name in names}
            return {name: weight for name, weight in sorted(weights.items()) if abs(weight) >= WEIGHT_FLOOR}

        blocks = {name: weights_of(vectorizer.get_feature_names_out()) for name, vectorizer in vectorizers.items()}
        document = {
            "about": (
                "Weights of the safety triage's statistical layer (chats/safety/statistical.py), written by "
                "`manage.py safety_model_train`. Do not edit: train again."
            ),
            "corpus_sha256": training_hash(examples=examples),
            "examples": len(examples),
            "scikit_learn": sklearn.__version__,
            "regularisation": regularisation,
            "threshold": threshold,
            "cross_validation": {
                "folds": FOLDS,
                "recall": round(chosen.recall, 4),
                "false_alarms": round(chosen.false_alarms, 4),
            },
            "intercept": round(float(model.intercept_[0]), 4),
            **blocks,
        }
        output.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        self.stdout.write(
            f"Chose C={regularisation:g}, threshold {threshold}; wrote "
            f"{sum(len(weights) for weights in blocks.values())} weights to {output}."
        )
