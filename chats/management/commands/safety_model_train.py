"""Trains the safety triage's statistical layer and writes its weights (chats/safety/data/statistical_model.json)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chats.safety.classifier import HAND_WRITTEN_LAYERS, message_classify
from chats.safety.evaluation import training_examples, training_hash
from chats.safety.statistical import MODEL_PATH, features_of, features_scale
from chats.safety.text import text_normalise

# What cross-validation on the tuning parts chooses between.
REGULARISATION = (4.0, 16.0, 64.0)
THRESHOLDS = (0.6, 0.7, 0.8, 0.9)
# The layer may raise at most this share of the tuning parts' non-emergencies: the false alarms
# it adds to the other layers'.
FALSE_ALARM_BUDGET = 0.03
FOLDS = 5
SEED = 0
# Weights smaller than this change no decision and only make the file longer.
WEIGHT_FLOOR = 0.01


class Command(BaseCommand):
    help = (
        "Train the statistical layer of the safety triage on the tuning parts of the labelled sets (never the "
        "held-out parts) and write its weights, with the hash of the corpus they came from. Needs scikit-learn "
        "(requirements-dev.txt); the same corpus always gives the same file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, default=MODEL_PATH, help="Where to write the weights.")

    def handle(self, *args, output: Path, **options) -> None:
        try:
            import numpy as np
            import sklearn
            from scipy.sparse import diags
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

        def matrix(vectorizer, subset):
            counts = vectorizer.transform(subset)
            return diags([features_scale(features_of(text)) for text in subset]) @ counts

        def fit(subset, subset_labels, regularisation):
            vectorizer = CountVectorizer(analyzer=features_of, binary=True).fit(subset)
            model = LogisticRegression(C=regularisation, max_iter=5000, class_weight="balanced")
            return vectorizer, model.fit(matrix(vectorizer, subset), subset_labels)

        folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(texts, labels))
        best = None
        for regularisation in REGULARISATION:
            probabilities = np.zeros(len(texts))
            for train, test in folds:
                vectorizer, model = fit([texts[i] for i in train], labels[train], regularisation)
                probabilities[test] = model.predict_proba(matrix(vectorizer, [texts[i] for i in test]))[:, 1]
            for threshold in THRESHOLDS:
                raised = (probabilities >= threshold) & consulted
                false_alarms = raised[~labels].mean()
                recall = (raised | offline)[labels].mean()
                self.stdout.write(
                    f"C={regularisation:<5g} threshold={threshold}: raises {raised[labels].mean():.1%} of emergencies "
                    f"and {false_alarms:.1%} of the rest; with the other layers {recall:.1%} recall, "
                    f"{(raised | offline)[~labels].mean():.1%} false alarms"
                )
                if false_alarms <= FALSE_ALARM_BUDGET and (best is None or recall > best[0]):
                    best = (recall, regularisation, threshold, raised[labels].mean(), false_alarms)
        if best is None:
            raise CommandError(f"No setting keeps the layer's false alarms within {FALSE_ALARM_BUDGET:.0%}.")
        _, regularisation, threshold, raised_emergencies, raised_others = best

        vectorizer, model = fit(texts, labels, regularisation)
        weights = {
            feature: round(float(weight), 4)
            for feature, weight in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
            if abs(weight) >= WEIGHT_FLOOR
        }
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
                "raised_emergencies": round(float(raised_emergencies), 4),
                "raised_non_emergencies": round(float(raised_others), 4),
            },
            "intercept": round(float(model.intercept_[0]), 4),
            "weights": dict(sorted(weights.items())),
        }
        output.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        self.stdout.write(
            f"Chose C={regularisation:g}, threshold {threshold}; wrote {len(weights)} weights to {output}."
        )
