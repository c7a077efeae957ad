"""The labelled set, the held-out targets, and the safety_report command."""

import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from chats.safety.classifier import (
    CATEGORY_ORDER,
    EMERGENCY_SIGNS,
    HAND_WRITTEN_LAYERS,
    RESEMBLES_EMERGENCY,
    Classification,
    message_classify,
)
from chats.safety.evaluation import (
    FALSE_ALARM_BREAKDOWNS,
    FALSE_ALARM_TARGET,
    PARTS,
    RECALL_BREAKDOWNS,
    RECALL_TARGET,
    corpus_evaluate,
    corpus_load,
    labelled_set_load,
    part_evaluate,
)


def test_held_out_emergency_recall_meets_the_target() -> None:
    report = part_evaluate(part="heldout")
    assert report.recall >= RECALL_TARGET, f"{report.emergencies_detected}/{report.emergencies} detected"


def test_held_out_false_alarms_stay_under_the_target() -> None:
    report = part_evaluate(part="heldout")
    assert report.false_alarm_rate <= FALSE_ALARM_TARGET, f"{report.false_alarms}/{report.non_emergencies}"


def test_the_labelled_set_is_big_enough_and_covers_every_sign_in_both_parts() -> None:
    parts = {part: labelled_set_load(part=part) for part in PARTS}
    everything = [message for messages in parts.values() for message in messages]
    assert len(everything) >= 300
    assert 0.55 <= len(parts["tuning"]) / len(everything) <= 0.65
    per_sign = Counter(message.emergency_sign for message in everything if message.emergency_sign)
    # It predates the signs only readings and the lexicons find; the independent corpus covers those.
    assert set(EMERGENCY_SIGNS) - set(per_sign) == {
        "high_blood_pressure",
        "newborn_fever",
        "preterm_labour",
        "psychosis",
        "newborn_seizure",
        "newborn_breathing",
        "waters_meconium",
        "cord_prolapse",
        "newborn_floppy",
        "newborn_feeding",
        "newborn_jaundice",
        # Never a label: the statistical layer's, which names no sign.
        RESEMBLES_EMERGENCY,
    }
    assert min(per_sign.values()) >= 8
    assert {message.emergency_sign for message in parts["heldout"] if message.emergency_sign} == set(per_sign)


def test_the_parts_do_not_share_messages_and_use_known_labels() -> None:
    tuning = {message.text for message in labelled_set_load(part="tuning")}
    heldout = {message.text for message in labelled_set_load(part="heldout")}
    assert not tuning & heldout
    for part in PARTS:
        for message in labelled_set_load(part=part):
            assert set(message.categories) <= set(CATEGORY_ORDER)
            assert ("emergency" in message.categories) == (message.emergency_sign is not None)


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError):
        labelled_set_load(part="everything")


def _report(*args: str) -> str:
    out = StringIO()
    call_command("safety_report", *args, stdout=out)
    return out.getvalue()


def test_the_report_shows_recall_per_sign_and_false_alarms_for_each_part() -> None:
    output = _report()
    for part in PARTS:
        report = part_evaluate(part=part)
        assert f"authored {part}: {report.emergencies + report.non_emergencies} messages" in output
    assert output.count("emergency recall") == 4
    assert len(re.findall(r"^  false alarms +\d+/\d+", output, flags=re.MULTILINE)) == 4
    for sign in set(EMERGENCY_SIGNS) - {RESEMBLES_EMERGENCY}:
        # Once per part of the authored set, and once per part of the corpus under "recall by sign".
        assert len(re.findall(rf"^ +{sign} +\d+/\d+", output, flags=re.MULTILINE)) >= 2


def test_the_report_can_show_one_part() -> None:
    output = _report("--part", "heldout")
    assert "heldout:" in output
    assert "tuning:" not in output


def test_misses_are_listed_for_tuning_but_held_out_texts_never_are() -> None:
    output = _report("--show-misses")
    assert "missed emergencies (tuning)" in output
    assert "held-out texts are not listed" in output
    # A listed message is a line of its own, after its tags: "    [sign language style] text".
    listed = {re.sub(r"^\[[^]]*\] ", "", line.strip()) for line in output.splitlines()}
    held_out = {m.text for m in labelled_set_load(part="heldout")} | {m.text for m in corpus_load(part="heldout")}
    assert not listed & held_out
    assert "[" in output and listed & {m.text for m in corpus_load(part="tuning")}
    # The statistical layer learnt the tuning parts: what is listed is what the hand-written layers miss.
    assert "the statistical layer learnt the tuning parts" in output
    hand_written = corpus_evaluate(
        part="tuning", classify=lambda text: message_classify(text=text, layers=HAND_WRITTEN_LAYERS)
    )
    assert next(m for m in hand_written.misses).text in output
    assert next(m for m in hand_written.false_alarm_messages).text in output


# The independent corpus ---------------------------------------------------------------------

TAGS = {
    "language": {"en", "es", "es-en", "fr", "pt", "pl", "de", "it", "tl", "vi", "hi-latn", "ar", "zh"},
    "who": {"writer", "baby", "partner_or_relative", "other"},
}


def test_the_corpus_lines_are_tagged_and_split_without_overlap() -> None:
    messages = corpus_load()
    assert len(messages) >= 2_300
    assert sum(m.emergency for m in messages) / len(messages) >= 0.40
    for message in messages:
        assert (message.sign is not None) == message.emergency == (message.kind == "emergency"), message
        assert message.language in TAGS["language"] and message.who in TAGS["who"], message
        assert message.style and message.kind
    tuning = {m.text for m in corpus_load(part="tuning")}
    heldout = {m.text for m in corpus_load(part="heldout")}
    assert not tuning & heldout and len(tuning) + len(heldout) == len(messages)


def test_the_corpus_report_breaks_recall_and_false_alarms_down_by_every_tag() -> None:
    """Measured with a stand-in classifier, so the arithmetic is checked, not the rules."""
    flags_spanish = lambda text: Classification(detected_categories=("emergency",) if " la " in text else ())  # noqa: E731
    report = corpus_evaluate(part="heldout", classify=flags_spanish)
    messages = corpus_load(part="heldout")
    assert report.emergencies == sum(m.emergency for m in messages)
    assert report.emergencies_detected == sum(m.emergency and " la " in m.text for m in messages)
    assert report.false_alarms == len(report.false_alarm_messages)
    assert set(report.recall_by) == set(RECALL_BREAKDOWNS)
    assert set(report.false_alarms_by) == set(FALSE_ALARM_BREAKDOWNS)
    for tallies in [*report.recall_by.values(), *report.false_alarms_by.values()]:
        assert sum(tally.total for tally in tallies) in {report.emergencies, report.non_emergencies}
    by_language = {tally.label: tally for tally in report.recall_by["language"]}
    assert by_language["es"].hits > 0 and by_language["zh"].hits == 0
    assert len(report.misses) == report.emergencies - report.emergencies_detected


def test_an_unknown_corpus_part_is_refused() -> None:
    with pytest.raises(ValueError):
        corpus_load(part="everything")
