"""The statistical layer: weights learnt from the tuning parts, read without scikit-learn."""

import json
import math
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chats.management.commands.safety_model_train import OperatingPoint, operating_point_choose
from chats.safety.classifier import HAND_WRITTEN_LAYERS, RESEMBLES_EMERGENCY, message_classify
from chats.safety.evaluation import corpus_load, labelled_set_load, training_examples, training_hash
from chats.safety.statistical import MODEL_PATH, StatisticalModel, characters_of, features_of, statistical_model

# Named by no rule or lexicon.
UNNAMED = "something is really wrong, I need help now, I am 30 weeks"


def test_the_weights_were_trained_on_the_corpus_as_it_is() -> None:
    # A labelled line added or changed without `make safety-model` fails here.
    written = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert written["corpus_sha256"] == training_hash(examples=training_examples()), (
        "The labelled sets changed since the statistical layer was trained: run `make safety-model`."
    )


def test_training_again_writes_the_same_file(tmp_path) -> None:
    output = tmp_path / "model.json"
    call_command("safety_model_train", output=output, stdout=StringIO())
    assert output.read_text(encoding="utf-8") == MODEL_PATH.read_text(encoding="utf-8")


def test_training_never_sees_a_held_out_message() -> None:
    trained = {text for text, _ in training_examples()}
    held_out = [m.text for m in labelled_set_load(part="heldout")] + [m.text for m in corpus_load(part="heldout")]
    assert held_out and not trained & set(held_out)


def test_training_without_scikit_learn_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(CommandError, match="requirements-dev.txt"):
        call_command("safety_model_train", output="/dev/null", stdout=StringIO())


def test_a_message_no_rule_names_is_raised_by_the_statistical_layer() -> None:
    assert not message_classify(text=UNNAMED, layers=HAND_WRITTEN_LAYERS).is_emergency
    classification = message_classify(text=UNNAMED)
    assert classification.is_emergency
    assert classification.emergency_signs == (RESEMBLES_EMERGENCY,)
    assert statistical_model().probability(text=UNNAMED) >= statistical_model().threshold


@pytest.mark.parametrize(
    "text",
    [
        # What people open or carry on a chat with: no sign, and a few words weigh a lot.
        "hello",
        "thanks",
        "ok",
        "good morning nora",
        "I love my baby so much",
        "what time should we start the bath and bedtime routine",
        "is it ok to eat brie at 20 weeks",
        "my baby is 3 weeks old and feeds every 2 hours, is that normal",
    ],
)
def test_an_everyday_question_stays_below_the_threshold(text: str) -> None:
    assert statistical_model().probability(text=text) < statistical_model().threshold
    assert not message_classify(text=text).is_emergency


def test_it_is_asked_only_when_the_other_layers_found_nothing() -> None:
    classification = message_classify(text="the bleeding won't stop, I'm soaking a pad every hour")
    assert classification.is_emergency
    assert RESEMBLES_EMERGENCY not in classification.emergency_signs


@pytest.mark.parametrize(
    "text",
    [
        # Read as a mental-health concern without a crisis.
        "I've felt so low and anxious since the birth",
        "I cry every day since the baby was born and I feel like a bad mum",
        # A sign read and set aside: someone else's, over, denied.
        "my husband has chest pain and says he can't breathe properly",
        "my chest pain on Monday was checked at A&E and it was reflux, all fine since",
        "no bleeding, no headache, just tired",
    ],
)
def test_it_is_not_asked_where_the_other_layers_read_the_message_and_judged_it(text: str) -> None:
    classification = message_classify(text=text)
    assert not classification.statistical_consulted
    assert not classification.is_emergency


def test_it_is_asked_of_a_message_the_other_layers_found_nothing_in() -> None:
    assert message_classify(text="what time should we start the bath and bedtime routine").statistical_consulted


def test_it_reads_words_and_neighbouring_pairs() -> None:
    assert features_of("baby not breathing") == {"baby", "not", "breathing", "baby not", "not breathing"}


def test_it_reads_the_character_ngrams_inside_each_word() -> None:
    assert characters_of("no bebe") == {" no", "no ", " no ", " be", "beb", "ebe", "be ", " beb", "bebe", "ebe "}


def test_a_word_it_never_saw_is_read_by_the_ngrams_it_shares_with_one_it_did() -> None:
    # The arithmetic of the weights file, on weights written here: each kind of feature counts
    # its weights over the square root of how many features of that kind the message has.
    model = StatisticalModel(words={"breathing": 2.0}, characters={"eath": 5.0}, intercept=-1.0, threshold=0.5)
    far = model.probability(text="braething")  # neither the word nor "eath"
    near = model.probability(text="breathng")  # "eath", not the word
    known = model.probability(text="breathing")
    assert far < 0.5 < near < known
    grams = len(characters_of("breathng"))
    assert near == pytest.approx(1 / (1 + math.exp(-(-1.0 + 5.0 / math.sqrt(grams)))))


def test_training_chooses_the_point_that_catches_most_for_the_false_alarms_it_costs() -> None:
    points = [
        OperatingPoint(regularisation=16, threshold=0.3, recall=0.95, false_alarms=0.30),
        OperatingPoint(regularisation=16, threshold=0.5, recall=0.90, false_alarms=0.18),
        OperatingPoint(regularisation=64, threshold=0.5, recall=0.91, false_alarms=0.19),
        OperatingPoint(regularisation=64, threshold=0.8, recall=0.80, false_alarms=0.10),
    ]
    assert operating_point_choose(points) == points[1]
