"""What people and the model are told once a message is classified."""

import pytest

from chats.safety.classifier import CATEGORY_ORDER, EMERGENCY_SIGNS, Classification, message_classify
from chats.safety.notices import (
    DISCLAIMER_MESSAGES,
    SIGN_DESCRIPTIONS,
    disclaimer_build,
    emergency_notice_build,
    safety_instructions_build,
)

SELF_HARM = Classification(detected_categories=("emergency", "mental_health"), emergency_signs=("self_harm",))
BLEEDING = Classification(detected_categories=("emergency", "medical", "pregnancy"), emergency_signs=("bleeding",))


@pytest.mark.parametrize(
    ("text", "primary", "wording"),
    [
        ("what size is the baby at 20 weeks", "pregnancy", "This information is for educational purposes only"),
        ("can i take ibuprofen at 30 weeks pregnant", "medication", "doctor, midwife or pharmacist before starting"),
        ("how much coffee can i drink pregnant", "nutrition", "dietitian"),
        ("i think i have thrush", "medical", "not a diagnosis"),
        ("feeling really low since the birth", "mental_health", "not a substitute for professional support"),
        ("bleeding heavily at 12 weeks", "emergency", "sign of an emergency"),
    ],
)
def test_the_disclaimer_speaks_to_the_primary_category(text: str, primary: str, wording: str) -> None:
    classification = message_classify(text=text)
    disclaimer = disclaimer_build(classification=classification)
    assert disclaimer == {
        "primary_category": primary,
        "detected_categories": list(classification.detected_categories),
        "message": DISCLAIMER_MESSAGES[primary],
    }
    assert wording in disclaimer["message"]


def test_the_pregnancy_disclaimer_reads_as_the_api_document_shows() -> None:
    assert DISCLAIMER_MESSAGES["pregnancy"].startswith("This information is for educational purposes only")


def test_every_category_and_sign_has_its_words() -> None:
    assert set(DISCLAIMER_MESSAGES) == set(CATEGORY_ORDER)
    assert set(SIGN_DESCRIPTIONS) == set(EMERGENCY_SIGNS)


def test_no_category_means_no_disclaimer_notice_or_instructions() -> None:
    nothing = message_classify(text="help me pick a name for our daughter")
    assert disclaimer_build(classification=nothing) is None
    assert emergency_notice_build(classification=nothing) is None
    assert safety_instructions_build(classification=nothing) == ""


def test_the_emergency_notice_names_the_configured_number(settings) -> None:
    settings.NORA_EMERGENCY_NUMBER = "999"
    notice = emergency_notice_build(classification=BLEEDING)
    assert "emergency services on 999" in notice
    assert "maternity unit now" in notice


def test_without_a_number_the_notice_says_the_local_emergency_number(settings) -> None:
    settings.NORA_EMERGENCY_NUMBER = ""
    notice = emergency_notice_build(classification=BLEEDING)
    assert "your local emergency number" in notice
    assert "crisis" not in notice


def test_thoughts_of_self_harm_also_name_the_crisis_line(settings) -> None:
    settings.NORA_EMERGENCY_NUMBER = "911"
    settings.NORA_CRISIS_LINE = "988"
    notice = emergency_notice_build(classification=SELF_HARM)
    assert "emergency services on 911" in notice
    assert "call 988 now" in notice


def test_without_a_crisis_line_the_notice_still_points_to_one(settings) -> None:
    settings.NORA_CRISIS_LINE = ""
    assert "call a crisis line now" in emergency_notice_build(classification=SELF_HARM)


def test_the_notice_is_short_and_fixed(settings) -> None:
    settings.NORA_EMERGENCY_NUMBER = "112"
    settings.NORA_CRISIS_LINE = "116 123"
    first = emergency_notice_build(classification=SELF_HARM)
    assert first == emergency_notice_build(classification=SELF_HARM)
    assert len(first) < 300


def test_only_an_emergency_gets_a_notice() -> None:
    assert emergency_notice_build(classification=message_classify(text="is brie safe in pregnancy")) is None


def test_on_an_emergency_the_model_is_told_to_put_safety_first() -> None:
    instructions = safety_instructions_build(classification=BLEEDING)
    assert "SAFETY FIRST" in instructions
    assert SIGN_DESCRIPTIONS["bleeding"] in instructions
    assert "Do not diagnose" in instructions
    assert "short" in instructions


def test_on_self_harm_the_model_is_told_how_to_respond() -> None:
    assert "crisis line" in safety_instructions_build(classification=SELF_HARM)


def test_medication_questions_tell_the_model_not_to_change_medicines() -> None:
    instructions = safety_instructions_build(classification=message_classify(text="should i stop my thyroid meds"))
    assert "never tell them to start, stop or change a medicine" in instructions
