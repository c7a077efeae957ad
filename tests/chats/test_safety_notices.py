"""What people and the model are told once a message is classified."""

import pytest

from accounts.models import COUNTRY_CHOICES, LANGUAGE_CHOICES
from chats.safety.classifier import CATEGORY_ORDER, EMERGENCY_SIGNS, Classification, message_classify
from chats.safety.notices import (
    SIGN_DESCRIPTIONS,
    countries,
    disclaimer_build,
    disclaimer_message,
    emergency_notice_build,
    notice_language,
    notice_languages,
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
        "message": disclaimer_message(category=primary, language="en"),
    }
    assert wording in disclaimer["message"]


def test_the_pregnancy_disclaimer_reads_as_the_api_document_shows() -> None:
    assert disclaimer_message(category="pregnancy", language="en").startswith(
        "This information is for educational purposes only"
    )


def test_every_category_and_sign_has_its_words() -> None:
    for category in CATEGORY_ORDER:
        # Written in English and in Spanish: a Spanish one is not English's fallback.
        assert disclaimer_message(category=category, language="es") != disclaimer_message(
            category=category, language="en"
        )
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


# The notice fits the person: their language, their country's numbers ---------------------------

SEIZURE = Classification(detected_categories=("emergency", "medical"), emergency_signs=("seizure",))


def test_a_spanish_notice_names_the_countrys_emergency_number_and_crisis_line() -> None:
    notice = emergency_notice_build(classification=SELF_HARM, language="es", country="MX")
    assert notice.startswith("Esto podría ser una emergencia. Llama ahora a los servicios de emergencia al 911")
    assert "llama al 800 911 2000 (Línea de la Vida) ahora" in notice


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        ("fr", "FR", "les secours au 15 ou 112"),
        ("en", "FR", "emergency services on 15 or 112"),
        ("pl", "PL", "numer alarmowy 112"),
        ("pt", "BR", "os serviços de emergência no 192"),
        ("zh", "CN", "急救电话 120"),
        ("ar", "EG", "الرقم 123"),
        ("en", "GB", "emergency services on 999"),
        ("es", "US", "los servicios de emergencia al 911"),
    ],
)
def test_each_language_names_the_countrys_numbers_joined_in_it(language, country, expected) -> None:
    assert expected in emergency_notice_build(classification=SEIZURE, language=language, country=country)


def test_a_country_without_a_crisis_line_gets_the_general_words_not_the_deployments(settings) -> None:
    settings.NORA_CRISIS_LINE = "988"
    settings.NORA_EMERGENCY_NUMBER = "911"
    notice = emergency_notice_build(classification=SELF_HARM, language="es", country="CO")
    assert "al 123" in notice and "llama a una línea de ayuda en crisis ahora" in notice
    assert "988" not in notice and "911" not in notice


def test_a_country_the_table_lacks_gets_no_other_countrys_number(settings) -> None:
    settings.NORA_EMERGENCY_NUMBER = "999"
    settings.NORA_CRISIS_LINE = "116 123"
    notice = emergency_notice_build(classification=SELF_HARM, country="IS")
    assert "your local emergency number" in notice and "call a crisis line" in notice
    assert "999" not in notice and "116 123" not in notice


def test_a_language_with_no_notice_falls_back_to_english() -> None:
    assert emergency_notice_build(classification=SEIZURE, language="de") == emergency_notice_build(
        classification=SEIZURE, language="en"
    )


def test_disclaimers_are_spanish_in_spanish_and_english_where_a_language_has_none() -> None:
    assert disclaimer_build(classification=SEIZURE, language="es")["message"].startswith("Algo de lo que describes")
    assert disclaimer_message(category="medication", language="fr") == disclaimer_message(
        category="medication", language="en"
    )


@pytest.mark.parametrize(
    ("preferred", "text", "expected"),
    [
        ("es", "my baby is not breathing", "es"),  # the profile's language wins
        (None, "tengo convulsiones y estoy embarazada de treinta semanas", "es"),
        (None, "j'ai des convulsions depuis ce matin", "fr"),
        (None, "mein Baby atmet nicht mehr richtig", "en"),  # German has no notice
        (None, "ok", "en"),  # too short to tell
        ("de", "estoy sangrando mucho", "es"),  # a language no notice is written in is passed over
    ],
)
def test_the_notice_language_is_the_profiles_else_the_messages_else_english(preferred, text, expected) -> None:
    assert notice_language(preferred=preferred, text=text) == expected


def test_every_notice_language_says_everything_a_notice_needs() -> None:
    for language in notice_languages():
        for country in (None, "MX", "CO"):
            for classification in (SEIZURE, SELF_HARM):
                notice = emergency_notice_build(classification=classification, language=language, country=country)
                assert "{" not in notice and "}" not in notice, (language, notice)
    assert set(notice_languages()) == {code for code, _ in LANGUAGE_CHOICES}


def test_the_country_table_covers_at_least_thirty_countries_with_sources() -> None:
    table = countries()
    assert len(table) >= 30
    assert set(table) <= {code for code, _ in COUNTRY_CHOICES}
    for code, entry in table.items():
        assert entry["emergency"] and all(number.strip() for number in entry["emergency"]), code
        assert entry["sources"], code
        if "crisis_line" in entry:
            assert entry["crisis_line"]["number"].strip() and entry["crisis_line"]["name"].strip(), code
